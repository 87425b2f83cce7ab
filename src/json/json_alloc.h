/* json_alloc: jansson's allocation functions, charged to the thread's parse scope (membudget). */
#ifndef ITFLOWD_JSON_JSON_ALLOC_H
#define ITFLOWD_JSON_JSON_ALLOC_H

/* Installs membudget_malloc/membudget_free as jansson's allocator. Process-wide: call it once at
 * start-up, before any jansson value exists (a value allocated before would be freed wrongly). */
void json_alloc_install(void);

#endif
