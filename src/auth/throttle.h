/* throttle: failed-authentication throttling per client address (COMPAT A6). After `limit`
 * failures within `window` seconds an address is refused (429) until the window ends; a client
 * that authenticates is never slowed. Thread-safe; bounded memory. */
#ifndef ITFLOWD_AUTH_THROTTLE_H
#define ITFLOWD_AUTH_THROTTLE_H

/* limit 0 disables throttling. */
void throttle_configure(unsigned limit, unsigned window_sec);
/* Seconds the address must still wait (0 = not blocked). */
unsigned throttle_blocked(const char *ip);
/* Records a failed attempt (bad key, wrong decrypt password); returns 1 if it blocked the address.
 */
int throttle_failure(const char *ip);

#endif
