/* documents: reference 2.6 with F12 (stored as sent). Every update keeps the previous version in
 * document_versions; document_content_raw is the tag-free search text. */
#include <string.h>

#include "core/php.h"
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"document_id", FK_ID, "document_id", NULL, FS_ONE, 0, NULL},
};

static const struct field fields[] = {
    {"document_name", "document_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"document_description", "document_description", CV_TEXT, 0, NULL},
    {"document_content", "document_content", CV_RAW, FF_REQUIRED, NULL},
    {"document_folder_id", "document_folder_id", CV_INT, 0, NULL},
    {"document_content_raw", "document_content_raw", CV_RAW, FF_CONST, NULL}, /* search_text */
    {"document_updated_at", "document_updated_at", CV_TEXT, FF_CONST | FF_NO_UPDATE, DFLT_NOW},
};

/* sanitize(head + " " + content with every '<' preceded by a space) into the content_raw value. */
static enum eng_rc set_search_text(struct op_ctx *ctx, const char *head, size_t hn)
{
    const struct value *content = ctx_val(ctx, "document_content");
    struct buf in, out;
    buf_init(&in, 0);
    buf_init(&out, 0);
    buf_append(&in, head, hn);
    buf_putc(&in, ' ');
    for (size_t i = 0; content->p && i < content->n; i++) {
        if (content->p[i] == '<')
            buf_putc(&in, ' ');
        buf_putc(&in, content->p[i]);
    }
    php_sanitize(&out, in.p ? in.p : "", in.len);
    enum eng_rc rc = in.failed || out.failed ? ENG_DB : ENG_OK;
    if (rc == ENG_OK) {
        struct value *raw = ctx_val(ctx, "document_content_raw");
        value_from_text(raw, ctx_strdup(ctx, out.p ? out.p : "", out.len), out.len);
        if (!raw->p) /* out of memory, not SQL NULL */
            rc = ENG_DB;
    }
    buf_free(&in);
    buf_free(&out);
    return rc;
}

/* Create: the search text is built from the raw name and description (reference). */
static enum eng_rc search_text_on_create(struct op_ctx *ctx)
{
    const char *name, *desc;
    size_t nn, dn;
    enum eng_rc rc = body_string(ctx, "document_name", &name, &nn);
    if (rc == ENG_OK)
        rc = body_string(ctx, "document_description", &desc, &dn);
    if (rc != ENG_OK)
        return rc;
    struct buf head;
    buf_init(&head, 0);
    buf_append(&head, name ? name : "", nn);
    buf_append(&head, desc ? desc : "", dn);
    rc = head.failed ? ENG_DB : set_search_text(ctx, head.p ? head.p : "", head.len);
    buf_free(&head);
    return rc;
}

/* Update: the current row becomes a version; the search text follows the new name and content. */
static enum eng_rc keep_version(struct op_ctx *ctx)
{
    static const char sql[] =
        "INSERT INTO document_versions (document_version_name, document_version_description, "
        "document_version_content, document_version_created_by, document_version_created_at, "
        "document_version_document_id) SELECT document_name, document_description, "
        "document_content, CASE WHEN document_updated_by <> 0 THEN document_updated_by ELSE "
        "document_created_by END, COALESCE(document_updated_at, document_created_at), "
        "document_id FROM documents WHERE document_id = ?";
    if (ctx_exec_ints(ctx, sql, 1, &ctx->id) != ENG_OK)
        return ENG_DB;
    ctx->aux = db_last_insert_id(ctx->db);
    const struct value *name = ctx_val(ctx, "document_name");
    return set_search_text(ctx, name->p ? name->p : "", name->p ? name->n : 0);
}

/* The reference answers every update of a document it found with count 1. */
static enum eng_rc always_one(struct op_ctx *ctx)
{
    ctx->count = 1;
    return ENG_OK;
}

/* Deleting a document deletes its versions, as the UI does. */
static enum eng_rc drop_versions(struct op_ctx *ctx)
{
    return ctx_exec_ints(
        ctx, "DELETE FROM document_versions WHERE document_version_document_id = ?", 1, &ctx->id);
}

static const struct log_spec update_miss = {
    "API", "Error", "Document update failed (not found or unauthorized) via API ({key})", LR_SCOPE,
    LR_ZERO};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    {.function = "create",
     .op = OP_CREATE,
     .before = search_text_on_create,
     .logs = {{"Document", "Create", "{name} via API ({key})", LR_SCOPE, LR_NEW_ID},
              {"API", "Success", "Created document {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    {.function = "update",
     .op = OP_UPDATE,
     .id_param = "document_id",
     .before = keep_version,
     .after = always_one,
     .miss_log = &update_miss,
     .logs = {{"Document", "Edit", "{name} via API ({key}), previous version kept", LR_SCOPE,
               LR_AUX},
              {"API", "Success", "Edited document {name} via API ({key})", LR_SCOPE, LR_ZERO}}},
    CRUD_DELETE("Document", "document", "document_id", drop_versions),
    CRUD_ARCHIVE("Document", "document", "document_id"),
};

static struct module_resolved resolved;

const struct module module_documents = {
    .res = &resolved,
    .name = "documents",
    .rbac_module = "module_support",
    .table = "documents",
    .client_col = "document_client_id",
    .archived_col = "document_archived_at",
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};
