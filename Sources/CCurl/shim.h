#ifndef LVSCTL_CCURL_SHIM_H
#define LVSCTL_CCURL_SHIM_H
/* libcurl (Debian: libcurl4-openssl-dev for the headers, libcurl4 at run time): the tcp, http and https checks of
   lvsctl monitor, all on one multi handle. Only Sources/LVSKit/Monitor/Engine.swift imports it.

   lvsctl does not link libcurl: libcurl and what it needs (OpenSSL, LDAP, Kerberos, nghttp2, ...) are some 30
   shared libraries, which every lvsctl process would load at start, while only `lvsctl monitor` uses them. The
   header gives the types and constants; lvs_curl_load() dlopens libcurl.so.4 when the first CheckEngine is created
   and fills lvs_curl_api with the functions the engine calls, and the lvs_curl_* wrappers below call through it.
   Call no other lvs_curl_* function before lvs_curl_load() has returned 0 (the strerror wrappers excepted: they load
   libcurl themselves). Swift cannot call C variadic functions, so the variadic curl_easy_setopt, curl_easy_getinfo
   and curl_multi_setopt get one typed wrapper per argument type. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

/* The libcurl the engine loads (the soname of libcurl4, whichever TLS flavour provides it). */
#ifndef LVS_CURL_LIBRARY
#define LVS_CURL_LIBRARY "libcurl.so.4"
#endif

/* The functions of libcurl the engine calls, filled by lvs_curl_load(). */
struct lvs_curl_api {
    pthread_once_t once;
    /* 0 once loaded, else -1 (with error set); read only after pthread_once(&once, ...) has returned. */
    int status;
    char error[512];
    void *library;
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    CURLcode (*easy_setopt)(CURL *h, CURLoption o, ...);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO i, ...);
    const char *(*easy_strerror)(CURLcode c);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *m);
    CURLMcode (*multi_setopt)(CURLM *m, CURLMoption o, ...);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned int count, int timeout_ms, int *numfds);
    CURLMcode (*multi_wakeup)(CURLM *m);
    CURLMsg *(*multi_info_read)(CURLM *m, int *left);
    const char *(*multi_strerror)(CURLMcode c);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
};

/* The one table of the process. Each Swift module (and, in a debug build, each object file) that imports this header
   gets its own copy of the static inline functions below, so the table is a weak definition: the linker keeps one,
   and every copy of the wrappers, lvs_curl_load() included, uses it. */
__attribute__((weak)) struct lvs_curl_api lvs_curl_api = {.once = PTHREAD_ONCE_INIT, .status = -1};

static inline void lvs_curl_load_once(void) {
    struct lvs_curl_api *a = &lvs_curl_api;
    a->status = -1;
    void *lib = dlopen(LVS_CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(a->error, sizeof a->error, "%s", why != NULL ? why : "cannot load " LVS_CURL_LIBRARY);
        return;
    }
    const char *missing = NULL;
#define LVS_CURL_SYMBOL(field, name) \
    do { \
        *(void **)&a->field = dlsym(lib, name); \
        if (a->field == NULL && missing == NULL) missing = name; \
    } while (0)
    LVS_CURL_SYMBOL(global_init, "curl_global_init");
    LVS_CURL_SYMBOL(easy_init, "curl_easy_init");
    LVS_CURL_SYMBOL(easy_cleanup, "curl_easy_cleanup");
    LVS_CURL_SYMBOL(easy_setopt, "curl_easy_setopt");
    LVS_CURL_SYMBOL(easy_getinfo, "curl_easy_getinfo");
    LVS_CURL_SYMBOL(easy_strerror, "curl_easy_strerror");
    LVS_CURL_SYMBOL(multi_init, "curl_multi_init");
    LVS_CURL_SYMBOL(multi_cleanup, "curl_multi_cleanup");
    LVS_CURL_SYMBOL(multi_setopt, "curl_multi_setopt");
    LVS_CURL_SYMBOL(multi_add_handle, "curl_multi_add_handle");
    LVS_CURL_SYMBOL(multi_remove_handle, "curl_multi_remove_handle");
    LVS_CURL_SYMBOL(multi_perform, "curl_multi_perform");
    LVS_CURL_SYMBOL(multi_poll, "curl_multi_poll");
    LVS_CURL_SYMBOL(multi_wakeup, "curl_multi_wakeup");
    LVS_CURL_SYMBOL(multi_info_read, "curl_multi_info_read");
    LVS_CURL_SYMBOL(multi_strerror, "curl_multi_strerror");
    LVS_CURL_SYMBOL(slist_append, "curl_slist_append");
    LVS_CURL_SYMBOL(slist_free_all, "curl_slist_free_all");
#undef LVS_CURL_SYMBOL
    if (missing != NULL) {
        /* curl_multi_poll needs libcurl 7.66, curl_multi_wakeup 7.68. */
        snprintf(a->error, sizeof a->error, "%s has no %s (libcurl 7.68 or later needed)", LVS_CURL_LIBRARY, missing);
        dlclose(lib);
        return;
    }
    a->library = lib;
    a->status = 0;
}

/* Loads libcurl and its functions, once per process (thread-safe; later calls return the first call's outcome).
   Returns 0, or -1 with the reason (naming the library or the missing function) in err when err is not NULL. */
static inline int lvs_curl_load(char *err, size_t errlen) {
    pthread_once(&lvs_curl_api.once, lvs_curl_load_once);
    if (lvs_curl_api.status != 0 && err != NULL && errlen > 0) snprintf(err, errlen, "%s", lvs_curl_api.error);
    return lvs_curl_api.status;
}

/* curl_global_init(3). */
static inline CURLcode lvs_curl_global_init(long flags) { return lvs_curl_api.global_init(flags); }
/* curl_easy_init(3). */
static inline CURL *lvs_curl_easy_init(void) { return lvs_curl_api.easy_init(); }
/* curl_easy_cleanup(3). */
static inline void lvs_curl_easy_cleanup(CURL *h) { lvs_curl_api.easy_cleanup(h); }
/* curl_easy_strerror(3); loads libcurl if need be (a message all the same when it cannot be loaded). */
static inline const char *lvs_curl_easy_strerror(CURLcode c) {
    return lvs_curl_load(NULL, 0) == 0 ? lvs_curl_api.easy_strerror(c) : "libcurl error (libcurl not loaded)";
}
/* curl_multi_init(3). */
static inline CURLM *lvs_curl_multi_init(void) { return lvs_curl_api.multi_init(); }
/* curl_multi_cleanup(3). */
static inline CURLMcode lvs_curl_multi_cleanup(CURLM *m) { return lvs_curl_api.multi_cleanup(m); }
/* curl_multi_add_handle(3). */
static inline CURLMcode lvs_curl_multi_add_handle(CURLM *m, CURL *h) { return lvs_curl_api.multi_add_handle(m, h); }
/* curl_multi_remove_handle(3). */
static inline CURLMcode lvs_curl_multi_remove_handle(CURLM *m, CURL *h) {
    return lvs_curl_api.multi_remove_handle(m, h);
}
/* curl_multi_perform(3). */
static inline CURLMcode lvs_curl_multi_perform(CURLM *m, int *running) {
    return lvs_curl_api.multi_perform(m, running);
}
/* curl_multi_poll(3). */
static inline CURLMcode lvs_curl_multi_poll(CURLM *m, struct curl_waitfd *extra, unsigned int count, int timeout_ms,
                                            int *numfds) {
    return lvs_curl_api.multi_poll(m, extra, count, timeout_ms, numfds);
}
/* curl_multi_wakeup(3): callable from any thread. */
static inline CURLMcode lvs_curl_multi_wakeup(CURLM *m) { return lvs_curl_api.multi_wakeup(m); }
/* curl_multi_info_read(3). */
static inline CURLMsg *lvs_curl_multi_info_read(CURLM *m, int *left) { return lvs_curl_api.multi_info_read(m, left); }
/* curl_multi_strerror(3); loads libcurl if need be, like lvs_curl_easy_strerror. */
static inline const char *lvs_curl_multi_strerror(CURLMcode c) {
    return lvs_curl_load(NULL, 0) == 0 ? lvs_curl_api.multi_strerror(c) : "libcurl error (libcurl not loaded)";
}
/* curl_slist_append(3). */
static inline struct curl_slist *lvs_curl_slist_append(struct curl_slist *list, const char *s) {
    return lvs_curl_api.slist_append(list, s);
}
/* curl_slist_free_all(3). */
static inline void lvs_curl_slist_free_all(struct curl_slist *list) { lvs_curl_api.slist_free_all(list); }

/* curl_easy_setopt(3) with a long (flags, numbers, timeouts in ms). */
static inline CURLcode lvs_curl_easy_setopt_long(CURL *h, CURLoption o, long v) {
    return lvs_curl_api.easy_setopt(h, o, v);
}
/* curl_easy_setopt(3) with a C string (libcurl copies it). */
static inline CURLcode lvs_curl_easy_setopt_string(CURL *h, CURLoption o, const char *v) {
    return lvs_curl_api.easy_setopt(h, o, v);
}
/* curl_easy_setopt(3) with a pointer (CURLOPT_WRITEDATA, CURLOPT_ERRORBUFFER, a struct curl_slist *). */
static inline CURLcode lvs_curl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) {
    return lvs_curl_api.easy_setopt(h, o, v);
}
/* curl_easy_setopt(3) with a curl_off_t (the *_LARGE options). */
static inline CURLcode lvs_curl_easy_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) {
    return lvs_curl_api.easy_setopt(h, o, v);
}
/* curl_easy_setopt(3) with a write callback (CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION). */
static inline CURLcode lvs_curl_easy_setopt_write_callback(CURL *h, CURLoption o, curl_write_callback v) {
    return lvs_curl_api.easy_setopt(h, o, v);
}
/* curl_easy_getinfo(3) of a long (CURLINFO_RESPONSE_CODE, CURLINFO_OS_ERRNO). */
static inline CURLcode lvs_curl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) {
    return lvs_curl_api.easy_getinfo(h, i, v);
}
/* curl_easy_getinfo(3) of a curl_off_t (the *_T times and sizes). */
static inline CURLcode lvs_curl_easy_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) {
    return lvs_curl_api.easy_getinfo(h, i, v);
}
/* curl_easy_getinfo(3) of a string owned by the handle (CURLINFO_EFFECTIVE_URL, CURLINFO_PRIMARY_IP). */
static inline CURLcode lvs_curl_easy_getinfo_string(CURL *h, CURLINFO i, char **v) {
    return lvs_curl_api.easy_getinfo(h, i, v);
}
/* curl_multi_setopt(3) with a long (CURLMOPT_PIPELINING, CURLMOPT_MAXCONNECTS). */
static inline CURLMcode lvs_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
    return lvs_curl_api.multi_setopt(m, o, v);
}
/* curl_multi_setopt(3) with a pointer. */
static inline CURLMcode lvs_curl_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) {
    return lvs_curl_api.multi_setopt(m, o, v);
}
#endif
