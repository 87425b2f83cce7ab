/* openapi: the OpenAPI 3.1 document of every route, generated from the module descriptors (A4). */
#ifndef ITFLOWD_HTTP_OPENAPI_H
#define ITFLOWD_HTTP_OPENAPI_H

#include "core/buf.h"

/* Builds the document once (start-up); 0 or -1. */
int openapi_build(void);
/* The document (valid after openapi_build; "" before). */
const char *openapi_document(void);
/* Appends the document with the paths of the custom scripts served now (custom/custom.h). */
void openapi_write(struct buf *out);
void openapi_free(void);

#endif
