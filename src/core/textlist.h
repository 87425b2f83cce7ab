/* textlist: the values of a repeatable text option, as given (argv strings, not copied). */
#ifndef ITFLOWD_CORE_TEXTLIST_H
#define ITFLOWD_CORE_TEXTLIST_H

#include <stddef.h>

#define TEXT_LIST_MAX 32

struct text_list {
    const char *v[TEXT_LIST_MAX];
    size_t n;
};

#endif
