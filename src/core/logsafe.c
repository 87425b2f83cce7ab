/* logsafe: \xHH escapes for the access and error log. */
#include "core/logsafe.h"

char *log_escape(char *out, size_t outlen, const char *s, int flags)
{
    static const char hex[] = "0123456789abcdef";
    if (!outlen)
        return out;
    if (!s)
        s = "-";
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int esc = c < 0x20 || c == 0x7f || c == '\\' || (c == ' ' && (flags & LOG_ESC_SPACE));
        size_t need = esc ? 4 : 1;
        if (n + need >= outlen)
            break;
        if (esc) {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = 0;
    return out;
}
