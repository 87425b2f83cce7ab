/* crud: the five generic writes of a module (COMPAT A3) as endpoint descriptors, with log rows in
 * ITFlow's style (<Type>/<Action>, the record's name) plus the API/Success row. TYPE is the log
 * type ("Domain"), NOUN the record in texts ("domain"), ID the id parameter ("domain_id"), SCOPE
 * the write's scope rule (SR_NONZERO for client rows: all-clients keys name client_id). */
#ifndef ITFLOWD_MODULES_CRUD_H
#define ITFLOWD_MODULES_CRUD_H

#include "engine/module.h"

#define CRUD_CREATE(TYPE, NOUN, SCOPE, BEFORE, AFTER)                                              \
    {                                                                                              \
        .function = "create", .op = OP_CREATE, .scope_rule = SCOPE, .before = BEFORE,              \
        .after = AFTER, .logs = {                                                                  \
            {TYPE, "Create", "{name} via API ({key})", LR_SCOPE, LR_NEW_ID},                       \
            {"API", "Success", "Created " NOUN " {name} via API ({key})", LR_SCOPE, LR_ZERO}       \
        }                                                                                          \
    }

#define CRUD_UPDATE(TYPE, NOUN, ID, BEFORE, AFTER)                                                 \
    {                                                                                              \
        .function = "update", .op = OP_UPDATE, .id_param = ID, .before = BEFORE, .after = AFTER,   \
        .logs = {                                                                                  \
            {TYPE, "Edit", "{name} via API ({key})", LR_SCOPE, LR_ID},                             \
            {"API", "Success", "Edited " NOUN " {name} via API ({key})", LR_SCOPE, LR_ZERO}        \
        }                                                                                          \
    }

#define CRUD_ROW_OP(FN, OP, ACTION, PAST, TYPE, NOUN, ID, BEFORE)                                  \
    {                                                                                              \
        .function = FN, .op = OP, .id_param = ID, .before = BEFORE, .logs = {                      \
            {TYPE, ACTION, "{name} " PAST " via API ({key})", LR_SCOPE, LR_ID},                    \
            {"API", "Success", ACTION "d " NOUN " {name} via API ({key})", LR_SCOPE, LR_ZERO}      \
        }                                                                                          \
    }

#define CRUD_DELETE(TYPE, NOUN, ID, BEFORE)                                                        \
    CRUD_ROW_OP("delete", OP_DELETE, "Delete", "deleted", TYPE, NOUN, ID, BEFORE)
#define CRUD_ARCHIVE(TYPE, NOUN, ID)                                                               \
    CRUD_ROW_OP("archive", OP_ARCHIVE, "Archive", "archived", TYPE, NOUN, ID, NULL),               \
        CRUD_ROW_OP("unarchive", OP_UNARCHIVE, "Unarchive", "unarchived", TYPE, NOUN, ID, NULL)

/* create, update, delete, archive, unarchive */
#define CRUD_WRITES(TYPE, NOUN, ID, SCOPE)                                                         \
    CRUD_CREATE(TYPE, NOUN, SCOPE, NULL, NULL), CRUD_UPDATE(TYPE, NOUN, ID, NULL, NULL),           \
        CRUD_DELETE(TYPE, NOUN, ID, NULL), CRUD_ARCHIVE(TYPE, NOUN, ID)

#endif
