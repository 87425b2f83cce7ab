/* domains: reference 2.7, and the writes of COMPAT A3 (crud.h). The registrar, web, DNS and mail
 * hosts are vendors of the client (F27). */
#include "engine/hook.h"
#include "modules/crud.h"

static const struct filter filters[] = {
    {"domain_id", FK_ID, "domain_id", NULL, FS_ONE, 0, NULL},
    {"domain_name", FK_TEXT, "domain_name", NULL, FS_LIST, 0, NULL},
};

static const struct field fields[] = {
    {"domain_name", "domain_name", CV_TEXT, FF_REQUIRED | FF_NAME, NULL},
    {"domain_description", "domain_description", CV_TEXT, 0, NULL},
    {"domain_expire", "domain_expire", CV_DATE, 0, NULL},
    {"domain_ip", "domain_ip", CV_TEXT, 0, NULL},
    {"domain_name_servers", "domain_name_servers", CV_TEXT, 0, NULL},
    {"domain_mail_servers", "domain_mail_servers", CV_TEXT, 0, NULL},
    {"domain_txt", "domain_txt", CV_TEXT, 0, NULL},
    {"domain_raw_whois", "domain_raw_whois", CV_TEXT, 0, NULL},
    {"domain_notes", "domain_notes", CV_TEXT, 0, NULL},
    {"domain_registrar", "domain_registrar", CV_INT, 0, NULL},
    {"domain_webhost", "domain_webhost", CV_INT, 0, NULL},
    {"domain_dnshost", "domain_dnshost", CV_INT, 0, NULL},
    {"domain_mailhost", "domain_mailhost", CV_INT, 0, NULL},
};

static const struct field_ref refs[] = {
    {"domain_registrar", "vendors", "a vendor"},
    {"domain_webhost", "vendors", "a vendor"},
    {"domain_dnshost", "vendors", "a vendor"},
    {"domain_mailhost", "vendors", "a vendor"},
};

static const struct endpoint endpoints[] = {
    {.function = "read", .op = OP_READ},
    CRUD_WRITES("Domain", "domain", "domain_id", SR_NONZERO),
};

static struct module_resolved resolved;

const struct module module_domains = {
    .res = &resolved,
    .name = "domains",
    .rbac_module = "module_support",
    .table = "domains",
    .client_col = "domain_client_id",
    .archived_col = "domain_archived_at",
    .flags = 0,
    .filters = filters,
    .nfilters = COUNT_OF(filters),
    .fields = fields,
    .nfields = COUNT_OF(fields),
    .refs = refs,
    .nrefs = COUNT_OF(refs),
    .endpoints = endpoints,
    .nendpoints = COUNT_OF(endpoints),
};
