/* throttle: failed-authentication throttling per client address (COMPAT A6). After `limit`
 * failures within any `window` seconds (a sliding window) an address is refused (429) until
 * enough of its failures are older than the window; a client that authenticates is never slowed.
 * An IPv4 address counts alone (also when it arrives IPv4-mapped, ::ffff:a.b.c.d); IPv6 addresses
 * count per /64 prefix, the block one subscriber is usually given. Thread-safe; bounded memory. */
#ifndef ITFLOWD_AUTH_THROTTLE_H
#define ITFLOWD_AUTH_THROTTLE_H

#include <stdint.h>

/* limit 0 disables throttling. */
void throttle_configure(unsigned limit, unsigned window_sec);
/* Seconds the address must still wait (0 = not blocked). */
unsigned throttle_blocked(const char *ip);
/* Records a failed attempt (bad key, wrong decrypt password); returns 1 if it blocked the address.
 */
int throttle_failure(const char *ip);

/* The same at a given time (milliseconds on a monotonic clock; the functions above use
 * CLOCK_MONOTONIC): lets the unit tests move time. */
unsigned throttle_blocked_at(const char *ip, int64_t now_ms);
int throttle_failure_at(const char *ip, int64_t now_ms);

#endif
