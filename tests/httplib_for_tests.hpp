#pragma once
// cpp-httplib for tests that serve HTTP themselves (a stand-in WebHDFS NameNode). Debian's
// libcpp-httplib is built with these three features, and they change the layout of httplib's
// classes: a test must see the same ones as the shared library it links, or it crashes.
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <httplib.h>
