/* module: lookups in one descriptor. */
#include <string.h>

#include "engine/module.h"

const struct endpoint *module_endpoint(const struct module *m, const char *fn, size_t n)
{
    for (size_t i = 0; i < m->nendpoints; i++)
        if (strlen(m->endpoints[i].function) == n && memcmp(m->endpoints[i].function, fn, n) == 0)
            return &m->endpoints[i];
    return NULL;
}

const struct field *module_field(const struct module *m, const char *name)
{
    for (size_t i = 0; i < m->nfields; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return &m->fields[i];
    return NULL;
}

int module_client_scoped(const struct module *m)
{
    if (m->client_col)
        return 1;
    for (size_t i = 0; i < m->nendpoints; i++)
        if (m->endpoints[i].aggregate && m->endpoints[i].aggregate->scope_col)
            return 1;
    return 0;
}
