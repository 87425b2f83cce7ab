/* openapi: the OpenAPI 3.1 document of every route, generated from the module descriptors (A4). */
#ifndef ITFLOWD_HTTP_OPENAPI_H
#define ITFLOWD_HTTP_OPENAPI_H

/* Builds the document once (start-up); 0 or -1. */
int openapi_build(void);
/* The document (valid after openapi_build; "" before). */
const char *openapi_document(void);
void openapi_free(void);

#endif
