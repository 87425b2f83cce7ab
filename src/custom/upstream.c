/* upstream: the pass-through to an ITFlow install. One curl handle per thread (kept between
 * requests, so its connections to the upstream are reused). */
#include "custom/upstream.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/logsafe.h"
#include "req/reply.h"

static pthread_key_t handle_key;
static int key_made;

static void handle_free(void *h)
{
    curl_easy_cleanup(h);
}

int custom_upstream_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    if (!key_made && pthread_key_create(&handle_key, handle_free) != 0)
        return -1;
    key_made = 1;
    return 0;
}

void custom_upstream_cleanup(void)
{
    if (key_made) {
        CURL *h = pthread_getspecific(handle_key);
        if (h) {
            curl_easy_cleanup(h);
            pthread_setspecific(handle_key, NULL);
        }
    }
    curl_global_cleanup();
}

static CURL *thread_handle(void)
{
    CURL *h = key_made ? pthread_getspecific(handle_key) : NULL;
    if (h) {
        curl_easy_reset(h);
        return h;
    }
    h = curl_easy_init();
    if (h && key_made)
        pthread_setspecific(handle_key, h);
    return h;
}

struct sink {
    struct buf *out;
    size_t max;
    int too_large;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    if (s->out->len + len > s->max) {
        s->too_large = 1;
        return 0; /* ends the transfer */
    }
    buf_append(s->out, p, len);
    return s->out->failed ? 0 : len;
}

void custom_forward(const struct custom_upstream *up, struct req *r, const char *target,
                    const char *body, size_t body_len, const struct upstream_header *hdrs,
                    size_t nhdrs, const char **ret_ctype)
{
    *ret_ctype = "application/json";
    CURL *h = thread_handle();
    struct buf url;
    buf_init(&url, 0);
    size_t base = strlen(up->url);
    while (base && up->url[base - 1] == '/')
        base--;
    buf_append(&url, up->url, base);
    buf_puts(&url, target);
    struct curl_slist *list = NULL, *more;
    int ok = h && !url.failed;
    int has_ctype = 0;
    for (size_t i = 0; ok && i < nhdrs; i++) {
        if (!hdrs[i].value)
            continue;
        has_ctype |= strcasecmp(hdrs[i].name, "Content-Type") == 0;
        char *line = arena_alloc(&r->arena, strlen(hdrs[i].name) + strlen(hdrs[i].value) + 3);
        if (!line) {
            ok = 0;
            break;
        }
        snprintf(line, strlen(hdrs[i].name) + strlen(hdrs[i].value) + 3, "%s: %s", hdrs[i].name,
                 hdrs[i].value);
        if (!(more = curl_slist_append(list, line)))
            ok = 0;
        else
            list = more;
    }
    char xff[128];
    snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", r->ip);
    /* no "Expect: 100-continue" round trip; the upstream's answer is relayed as it is */
    static const char *const fixed[] = {"Expect:", "Accept-Encoding:", NULL};
    if (ok && (more = curl_slist_append(list, xff)))
        list = more;
    /* none given: none sent (curl would call a POST body a form) */
    if (ok && !has_ctype && (more = curl_slist_append(list, "Content-Type:")))
        list = more;
    for (const char *const *f = fixed; ok && *f; f++)
        if ((more = curl_slist_append(list, *f)))
            list = more;
    if (!ok) {
        curl_slist_free_all(list);
        buf_free(&url);
        snprintf(r->error, sizeof(r->error), "out of memory forwarding to the upstream");
        reply_message(r, 500, "Internal server error.");
        return;
    }
    buf_reset(&r->out);
    struct sink sink = {&r->out, up->max_answer, 0};
    curl_easy_setopt(h, CURLOPT_URL, url.p);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L); /* the path as routed: no dot-segment folding */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)up->connect_timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)up->timeout);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (r->method == METHOD_POST) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (body_len) { /* a GET with a body (v1 reads parameters from it too) */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "GET");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    char *ctype = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    curl_slist_free_all(list);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    buf_free(&url);
    if (rc == CURLE_OK && status >= 100 && status <= 599 && !r->out.failed) {
        r->status = (int)status;
        if (ctype) {
            char *copy = arena_strndup(&r->arena, ctype, strlen(ctype));
            if (copy && !strpbrk(copy, "\r\n"))
                *ret_ctype = copy;
        }
        return;
    }
    snprintf(r->error, sizeof(r->error), "the upstream %s: %s",
             rc == CURLE_OK ? "answered no HTTP status" : "failed", curl_easy_strerror(rc));
    if (rc == CURLE_OPERATION_TIMEDOUT)
        reply_message(r, 504, "The upstream ITFlow server did not answer in time.");
    else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
        reply_message(r, 504, "The upstream ITFlow server cannot be reached.");
    else if (sink.too_large)
        reply_message(r, 502, "The upstream ITFlow server's answer is too large.");
    else
        reply_message(r, 502, "The upstream ITFlow server gave no valid answer.");
}
