#ifndef LVSCTL_CCURL_SHIM_H
#define LVSCTL_CCURL_SHIM_H
/* libcurl (Debian: libcurl4-openssl-dev): the tcp, http and https checks of lvsctl monitor, all on one multi handle.
   Only Sources/LVSKit/Monitor/Engine.swift imports it. Swift cannot call C variadic functions, so the variadic
   curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt get one typed wrapper per argument type here. */
#include <curl/curl.h>

/* curl_easy_setopt(3) with a long (flags, numbers, timeouts in ms). */
static inline CURLcode lvs_curl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
/* curl_easy_setopt(3) with a C string (libcurl copies it). */
static inline CURLcode lvs_curl_easy_setopt_string(CURL *h, CURLoption o, const char *v) {
    return curl_easy_setopt(h, o, v);
}
/* curl_easy_setopt(3) with a pointer (CURLOPT_WRITEDATA, CURLOPT_ERRORBUFFER, a struct curl_slist *). */
static inline CURLcode lvs_curl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) {
    return curl_easy_setopt(h, o, v);
}
/* curl_easy_setopt(3) with a curl_off_t (the *_LARGE options). */
static inline CURLcode lvs_curl_easy_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) {
    return curl_easy_setopt(h, o, v);
}
/* curl_easy_setopt(3) with a write callback (CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION). */
static inline CURLcode lvs_curl_easy_setopt_write_callback(CURL *h, CURLoption o, curl_write_callback v) {
    return curl_easy_setopt(h, o, v);
}
/* curl_easy_getinfo(3) of a long (CURLINFO_RESPONSE_CODE, CURLINFO_OS_ERRNO). */
static inline CURLcode lvs_curl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
/* curl_easy_getinfo(3) of a curl_off_t (the *_T times and sizes). */
static inline CURLcode lvs_curl_easy_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) {
    return curl_easy_getinfo(h, i, v);
}
/* curl_easy_getinfo(3) of a string owned by the handle (CURLINFO_EFFECTIVE_URL, CURLINFO_PRIMARY_IP). */
static inline CURLcode lvs_curl_easy_getinfo_string(CURL *h, CURLINFO i, char **v) {
    return curl_easy_getinfo(h, i, v);
}
/* curl_multi_setopt(3) with a long (CURLMOPT_PIPELINING, CURLMOPT_MAXCONNECTS). */
static inline CURLMcode lvs_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
    return curl_multi_setopt(m, o, v);
}
/* curl_multi_setopt(3) with a pointer. */
static inline CURLMcode lvs_curl_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) {
    return curl_multi_setopt(m, o, v);
}
#endif
