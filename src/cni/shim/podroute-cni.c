/*
 * podroute-cni: the CNI IPAM plugin executable (CNI SPEC.md 1.1, "Section 3: Execution
 * Protocol"), as a pass-through to the podroute daemon on the same node.
 *
 * Why C, and why so little: the runtime execs the plugin once per pod ADD and once per DEL, so its
 * start-up is on every pod's critical path. A Node.js process costs a Node start-up (tens of
 * milliseconds of CPU) before it does anything; this program starts in well under a millisecond.
 * It also means a host needs no copy of a ~100 MB node binary beside the plugin (deploy/
 * install-cni.sh copies this one static file).
 *
 * What it does: VERSION is answered here (the fixed list below, kept equal to SUPPORTED_VERSIONS in
 * src/cni/spec.ts by test/cni/shim.test.ts). Every other command is handed over whole: the CNI_*
 * environment and stdin go in one HTTP/1.1 request (RFC 9112) over the daemon's unix socket,
 * `POST /cni/exec`, and the daemon runs the plugin logic (src/cni/plugin.ts, the only
 * implementation) and answers `{stdout, exitCode}`, which is written back as is. The only JSON
 * read here is what is needed to find the socket: `ipam.socket` of the network configuration
 * (default /run/podroute/podroute.sock) and `cniVersion` for the errors written here.
 *
 * Errors written here (SPEC.md "Error", same codes and messages as the plugin logic):
 *   5  stdin cannot be read, or is over MAX_STDIN bytes
 *   6  stdin is not JSON
 *   11 the daemon cannot be reached or its answer cannot be read (STATUS: 50)
 *   101 the daemon refused the request (its message)
 * Every buffer has a fixed limit checked before it is written; input over a limit is an error,
 * never a truncation. Only libc is used; `npm run build` compiles it (-static when the C library
 * allows it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_SOCKET "/run/podroute/podroute.sock"
#define VERSION_JSON                                                                                  \
  "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}"
static const char *const SUPPORTED[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

/** The network configuration: runtimes send a few KiB. */
#define MAX_STDIN (1u << 20)
/** The daemon's own limit on a request body (src/api/server.ts). */
#define MAX_BODY (1u << 20)
/** The daemon's answer: a CNI result, with HTTP headers. */
#define MAX_RESPONSE (1u << 20)
/** As the plugin logic waited on its request before. */
#define TIMEOUT_MS 10000
/** JSON nesting this program follows before it gives up (JSON.parse follows far deeper). */
#define MAX_DEPTH 512
#define MAX_SOCKET_PATH 4096

/* ---- output ------------------------------------------------------------------------------ */

/** A growable byte buffer with a hard cap; `over` is set instead of writing past it. */
struct buf {
  char *p;
  size_t len, cap, max;
  int over;
};

static int buf_reserve(struct buf *b, size_t extra) {
  if (b->over) return -1;
  if (extra > b->max - b->len) {
    b->over = 1;
    return -1;
  }
  if (b->len + extra <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra) cap *= 2;
  if (cap > b->max) cap = b->max;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->over = 1;
    return -1;
  }
  b->p = p;
  b->cap = cap;
  return 0;
}

static void buf_put(struct buf *b, const char *s, size_t n) {
  if (buf_reserve(b, n) == 0) {
    memcpy(b->p + b->len, s, n);
    b->len += n;
  }
}

static void buf_str(struct buf *b, const char *s) { buf_put(b, s, strlen(s)); }

/** A JSON string (RFC 8259 7): quote, backslash and control characters escaped; bytes >= 0x80 as is. */
static void buf_json(struct buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  buf_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      buf_put(b, e, 2);
    } else if (c == '\n') {
      buf_put(b, "\\n", 2);
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      buf_put(b, e, 6);
    } else {
      buf_put(b, (const char *)&c, 1);
    }
  }
  buf_put(b, "\"", 1);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/** The state errors are written with: the configuration's version, known once stdin is read. */
static const char *error_version = "1.0.0";

/** Writes a CNI error (SPEC.md "Error") to stdout and exits 1. */
static void fail(int code, const char *msg, const char *details) {
  static char mem[16384];
  struct buf b = {0};
  char num[24];
  /* Messages come from this program or the daemon (bounded by MAX_RESPONSE): malloc'd buffer. */
  b.max = MAX_RESPONSE * 2 + 256;
  buf_str(&b, "{\"cniVersion\":");
  buf_json(&b, error_version, strlen(error_version));
  snprintf(num, sizeof num, ",\"code\":%d,\"msg\":", code);
  buf_str(&b, num);
  buf_json(&b, msg, strlen(msg));
  if (details) {
    buf_str(&b, ",\"details\":");
    buf_json(&b, details, strlen(details));
  }
  buf_str(&b, "}\n");
  if (b.over) {
    /* Out of memory: a fixed error still gets out. */
    snprintf(mem, sizeof mem, "{\"cniVersion\":\"1.0.0\",\"code\":5,\"msg\":\"out of memory\"}\n");
    write_all(1, mem, strlen(mem));
  } else {
    write_all(1, b.p, b.len);
  }
  exit(1);
}

/* ---- JSON scanning (RFC 8259), bounds-checked, for the few members this program reads --------- */

struct scan {
  const char *p;
  size_t len, pos;
};

static void ws(struct scan *s) {
  while (s->pos < s->len) {
    char c = s->p[s->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    s->pos++;
  }
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int hex4(struct scan *s, unsigned *out) {
  if (s->len - s->pos < 4) return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(s->p[s->pos + (size_t)i]);
    if (h < 0) return -1;
    v = v * 16 + (unsigned)h;
  }
  s->pos += 4;
  *out = v;
  return 0;
}

/** Appends one code point as UTF-8 when it fits (`*n` counts every byte, fitting or not). */
static void put_utf8(char *out, size_t cap, size_t *n, unsigned cp) {
  char u[4];
  size_t k;
  if (cp < 0x80) {
    u[0] = (char)cp;
    k = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xc0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3f));
    k = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xe0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[2] = (char)(0x80 | (cp & 0x3f));
    k = 3;
  } else {
    u[0] = (char)(0xf0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[3] = (char)(0x80 | (cp & 0x3f));
    k = 4;
  }
  for (size_t i = 0; i < k; i++, (*n)++)
    if (out && *n < cap) out[*n] = u[i];
}

/**
 * Reads a string at s->pos (which is at its opening quote). Decoded bytes go to `out` up to `cap`;
 * `*n` is the decoded length (may exceed cap: the caller checks). A lone surrogate becomes U+FFFD,
 * as Node turns it into UTF-8. Returns -1 on a malformed string.
 */
static int string(struct scan *s, char *out, size_t cap, size_t *n) {
  *n = 0;
  if (s->pos >= s->len || s->p[s->pos] != '"') return -1;
  s->pos++;
  while (s->pos < s->len) {
    unsigned char c = (unsigned char)s->p[s->pos++];
    if (c == '"') return 0;
    if (c < 0x20) return -1;
    if (c != '\\') {
      if (out && *n < cap) out[*n] = (char)c;
      (*n)++;
      continue;
    }
    if (s->pos >= s->len) return -1;
    char e = s->p[s->pos++];
    unsigned cp;
    switch (e) {
      case '"': cp = '"'; break;
      case '\\': cp = '\\'; break;
      case '/': cp = '/'; break;
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u':
        if (hex4(s, &cp) < 0) return -1;
        if (cp >= 0xd800 && cp < 0xdc00 && s->len - s->pos >= 6 && s->p[s->pos] == '\\' &&
            s->p[s->pos + 1] == 'u') {
          struct scan t = *s;
          unsigned lo;
          t.pos += 2;
          if (hex4(&t, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            *s = t;
          }
        }
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
        break;
      default: return -1;
    }
    put_utf8(out, cap, n, cp);
  }
  return -1;
}

static int digits(struct scan *s) {
  size_t start = s->pos;
  while (s->pos < s->len && s->p[s->pos] >= '0' && s->p[s->pos] <= '9') s->pos++;
  return s->pos > start ? 0 : -1;
}

/** A number (RFC 8259 6); its integer part, clamped, in *out when out is given. */
static int number(struct scan *s, long *out) {
  size_t start = s->pos;
  if (s->pos < s->len && s->p[s->pos] == '-') s->pos++;
  if (s->pos < s->len && s->p[s->pos] == '0') s->pos++;
  else if (digits(s) < 0) return -1;
  size_t int_end = s->pos;
  if (s->pos < s->len && s->p[s->pos] == '.') {
    s->pos++;
    if (digits(s) < 0) return -1;
  }
  if (s->pos < s->len && (s->p[s->pos] == 'e' || s->p[s->pos] == 'E')) {
    s->pos++;
    if (s->pos < s->len && (s->p[s->pos] == '+' || s->p[s->pos] == '-')) s->pos++;
    if (digits(s) < 0) return -1;
  }
  if (out) {
    long v = 0;
    size_t i = start + (s->p[start] == '-');
    for (; i < int_end; i++) v = v < 100000000 ? v * 10 + (s->p[i] - '0') : v;
    *out = s->p[start] == '-' ? -v : v;
  }
  return 0;
}

static int literal(struct scan *s, const char *word) {
  size_t n = strlen(word);
  if (s->len - s->pos < n || memcmp(s->p + s->pos, word, n) != 0) return -1;
  s->pos += n;
  return 0;
}

static int value(struct scan *s, int depth);

/**
 * Object members one by one: call with s->pos at '{' (first = 1) or after a value. Returns 1 with
 * the key decoded (up to keycap) and s->pos at the member's value, 0 at the closing brace, -1 on
 * malformed input.
 */
static int member(struct scan *s, int *first, char *key, size_t keycap, size_t *keylen) {
  ws(s);
  if (*first) {
    if (s->pos >= s->len || s->p[s->pos] != '{') return -1;
    s->pos++;
    ws(s);
    if (s->pos < s->len && s->p[s->pos] == '}') {
      s->pos++;
      return 0;
    }
    *first = 0;
  } else {
    if (s->pos >= s->len) return -1;
    if (s->p[s->pos] == '}') {
      s->pos++;
      return 0;
    }
    if (s->p[s->pos] != ',') return -1;
    s->pos++;
    ws(s);
  }
  if (string(s, key, keycap, keylen) < 0) return -1;
  ws(s);
  if (s->pos >= s->len || s->p[s->pos] != ':') return -1;
  s->pos++;
  ws(s);
  return s->pos < s->len ? 1 : -1;
}

static int key_is(const char *key, size_t keylen, size_t keycap, const char *want) {
  return keylen <= keycap && keylen == strlen(want) && memcmp(key, want, keylen) == 0;
}

/** Validates and skips any value (s->pos at its first byte). */
static int value(struct scan *s, int depth) {
  if (depth > MAX_DEPTH) return -1;
  ws(s);
  if (s->pos >= s->len) return -1;
  char c = s->p[s->pos];
  size_t n;
  if (c == '"') return string(s, NULL, 0, &n);
  if (c == '{') {
    int first = 1, r;
    char key[1];
    while ((r = member(s, &first, key, 0, &n)) == 1)
      if (value(s, depth + 1) < 0) return -1;
    return r;
  }
  if (c == '[') {
    s->pos++;
    ws(s);
    if (s->pos < s->len && s->p[s->pos] == ']') {
      s->pos++;
      return 0;
    }
    for (;;) {
      if (value(s, depth + 1) < 0) return -1;
      ws(s);
      if (s->pos >= s->len) return -1;
      if (s->p[s->pos] == ']') {
        s->pos++;
        return 0;
      }
      if (s->p[s->pos++] != ',') return -1;
    }
  }
  if (c == 't') return literal(s, "true");
  if (c == 'f') return literal(s, "false");
  if (c == 'n') return literal(s, "null");
  return number(s, NULL);
}

/** After the top-level value only whitespace may follow. */
static int end(struct scan *s) {
  ws(s);
  return s->pos == s->len ? 0 : -1;
}

/* ---- the network configuration ------------------------------------------------------------ */

struct netconf {
  char socket[MAX_SOCKET_PATH + 1];
  size_t socket_len; /* may exceed MAX_SOCKET_PATH: then the path is refused as too long */
  int has_socket;
  char version[16];
  size_t version_len;
  int has_version;
};

/**
 * Finds `cniVersion` and `ipam.socket` the way JSON.parse would leave them (the last duplicate
 * wins; a member of another type counts as absent). Returns -1 when stdin is not JSON.
 */
static int read_netconf(const char *p, size_t len, struct netconf *c) {
  struct scan s = {p, len, 0};
  char key[16];
  size_t keylen, n;
  int first = 1, r;
  memset(c, 0, sizeof *c);
  ws(&s);
  if (s.pos >= s.len || s.p[s.pos] != '{') return value(&s, 0) < 0 ? -1 : end(&s);
  while ((r = member(&s, &first, key, sizeof key, &keylen)) == 1) {
    char v = s.p[s.pos];
    if (key_is(key, keylen, sizeof key, "cniVersion")) {
      c->has_version = v == '"';
      if (v == '"' ? string(&s, c->version, sizeof c->version, &c->version_len) < 0 : value(&s, 1) < 0)
        return -1;
    } else if (key_is(key, keylen, sizeof key, "ipam")) {
      c->has_socket = 0;
      if (v != '{') {
        if (value(&s, 1) < 0) return -1;
        continue;
      }
      int f2 = 1, r2;
      while ((r2 = member(&s, &f2, key, sizeof key, &keylen)) == 1) {
        if (key_is(key, keylen, sizeof key, "socket") && s.p[s.pos] == '"') {
          if (string(&s, c->socket, MAX_SOCKET_PATH, &c->socket_len) < 0) return -1;
          c->has_socket = 1;
        } else {
          if (key_is(key, keylen, sizeof key, "socket")) c->has_socket = 0;
          if (value(&s, 2) < 0) return -1;
        }
      }
      if (r2 < 0) return -1;
    } else if (value(&s, 1) < 0) {
      return -1;
    }
  }
  (void)n;
  return r < 0 ? -1 : end(&s);
}

/* ---- the request ---------------------------------------------------------------------------- */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline) {
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) return 0;
    struct pollfd pfd = {fd, events, 0};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    return r < 0 ? -1 : r;
  }
}

/** errno as Node names it in `cannot reach podroute at …: CODE`. */
static const char *errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOTDIR: return "ENOTDIR";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ECONNRESET: return "ECONNRESET";
    case EPIPE: return "EPIPE";
    case EAGAIN: return "EAGAIN";
    case EPROTOTYPE: return "EPROTOTYPE";
    default: return strerror(e);
  }
}

static const char *command;
static const char *socket_path = DEFAULT_SOCKET;

/** The daemon cannot be reached or understood: TryAgainLater (STATUS: PluginNotAvailable). */
static void unreachable(const char *details) {
  static char msg[MAX_SOCKET_PATH + 64];
  snprintf(msg, sizeof msg, "podroute daemon unreachable at %s", socket_path);
  fail(command && strcmp(command, "STATUS") == 0 ? 50 : 11, msg, details);
}

static void unreachable_errno(int e) {
  static char details[MAX_SOCKET_PATH + 64];
  snprintf(details, sizeof details, "cannot reach podroute at %s: %s", socket_path, errno_name(e));
  unreachable(details);
}

static int ieq(const char *a, size_t n, const char *b) {
  if (strlen(b) != n) return 0;
  for (size_t i = 0; i < n; i++) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
    if (x != b[i]) return 0;
  }
  return 1;
}

static const char *find(const char *p, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(p + i, needle, n) == 0) return p + i;
  return NULL;
}

/**
 * The answer's status and body (RFC 9112 4, 6.3): `content-length` cuts the body, a chunked answer
 * is refused (the daemon never chunks). Returns the body length, -1 while the header is not
 * complete or the body shorter than content-length, and fails on a malformed answer when `final`.
 */
static long parse_response(const char *raw, size_t len, int final, int *status, const char **body) {
  const char *hend = find(raw, len, "\r\n\r\n");
  if (!hend) {
    if (final) unreachable("daemon answer has no complete header");
    return -1;
  }
  if (len < 12 || (memcmp(raw, "HTTP/1.1 ", 9) != 0 && memcmp(raw, "HTTP/1.0 ", 9) != 0) ||
      raw[9] < '0' || raw[9] > '9' || raw[10] < '0' || raw[10] > '9' || raw[11] < '0' || raw[11] > '9') {
    static char d[128];
    size_t l = (size_t)(hend - raw);
    const char *eol = find(raw, l, "\r\n");
    if (eol) l = (size_t)(eol - raw);
    snprintf(d, sizeof d, "daemon answer has no status line: %.*s", (int)(l > 80 ? 80 : l), raw);
    unreachable(d);
  }
  *status = (raw[9] - '0') * 100 + (raw[10] - '0') * 10 + (raw[11] - '0');
  *body = hend + 4;
  size_t have = len - (size_t)(hend + 4 - raw);
  long clen = -1;
  const char *line = find(raw, (size_t)(hend - raw), "\r\n");
  while (line && line < hend) {
    line += 2;
    const char *eol = find(line, (size_t)(hend + 2 - line), "\r\n");
    if (!eol) break;
    const char *colon = memchr(line, ':', (size_t)(eol - line));
    if (colon) {
      const char *v = colon + 1;
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      const char *ve = eol;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      size_t nl = (size_t)(colon - line);
      while (nl > 0 && (line[nl - 1] == ' ' || line[nl - 1] == '\t')) nl--;
      if (ieq(line, nl, "transfer-encoding") && !ieq(v, (size_t)(ve - v), "identity")) {
        unreachable("daemon answer uses a transfer-encoding");
      }
      if (ieq(line, nl, "content-length")) {
        clen = 0;
        if (v == ve) unreachable("daemon answer is truncated");
        for (const char *q = v; q < ve; q++) {
          if (*q < '0' || *q > '9' || clen > (long)MAX_RESPONSE) unreachable("daemon answer is truncated");
          clen = clen * 10 + (*q - '0');
        }
      }
    }
    line = eol;
  }
  if (clen >= 0) {
    if ((size_t)clen <= have) return clen;
    if (final) unreachable("daemon answer is truncated");
    return -1;
  }
  return final ? (long)have : -1;
}

/** The daemon's answer to POST /cni/exec: writes its stdout and exits with its exit code. */
static void relay(int status, const char *body, size_t len) {
  struct scan s = {body, len, 0};
  char key[16];
  size_t keylen;
  int first = 1, r;
  char *out = malloc(len + 1);
  size_t out_len = 0;
  int has_out = 0, has_code = 0, has_error = 0;
  long exit_code = 0, code = 101;
  char *error = malloc(len + 1);
  size_t error_len = 0;
  if (!out || !error) fail(5, "out of memory", NULL);
  ws(&s);
  if (s.pos >= s.len || s.p[s.pos] != '{') {
    /* Empty, or JSON but no object: the plugin logic read that as a body without fields. */
    if (s.pos < s.len && (value(&s, 0) < 0 || end(&s) < 0)) goto not_json;
    goto fields;
  }
  while ((r = member(&s, &first, key, sizeof key, &keylen)) == 1) {
    char v = s.p[s.pos];
    int ok;
    if (key_is(key, keylen, sizeof key, "stdout") && v == '"') {
      ok = string(&s, out, len, &out_len) == 0;
      has_out = 1;
    } else if (key_is(key, keylen, sizeof key, "error") && v == '"') {
      ok = string(&s, error, len, &error_len) == 0;
      has_error = 1;
    } else if (key_is(key, keylen, sizeof key, "exitCode") && (v == '-' || (v >= '0' && v <= '9'))) {
      ok = number(&s, &exit_code) == 0;
      has_code = 1;
    } else if (key_is(key, keylen, sizeof key, "code") && (v == '-' || (v >= '0' && v <= '9'))) {
      ok = number(&s, &code) == 0;
    } else {
      ok = value(&s, 1) == 0;
    }
    if (!ok) goto not_json;
  }
  if (r < 0 || end(&s) < 0) goto not_json;
fields:
  if (status == 200) {
    if (!has_out || !has_code) goto not_exec;
    if (out_len > 0) {
      out[out_len++] = '\n';
      if (write_all(1, out, out_len) < 0) exit(1);
    }
    exit(exit_code < 0 || exit_code > 255 ? 1 : (int)exit_code);
  }
  {
    static char msg[64];
    snprintf(msg, sizeof msg, "daemon answered %d", status);
    if (has_error) error[error_len] = '\0';
    fail((int)code, has_error ? error : msg, NULL);
  }
not_exec:
  unreachable("daemon answer to POST /cni/exec has no stdout and exitCode");
not_json: {
  static char d[256];
  snprintf(d, sizeof d, "daemon answered with non-JSON: %.*s", (int)(len > 200 ? 200 : len), body);
  unreachable(d);
}
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  command = getenv("CNI_COMMAND");

  /* stdin first, whatever the command: a runtime writing it must not see a broken pipe. */
  struct buf in = {0};
  in.max = MAX_STDIN + 1;
  for (;;) {
    if (in.len == in.max) break; /* one byte over MAX_STDIN: refused below */
    if (buf_reserve(&in, 65536 < in.max - in.len ? 65536 : in.max - in.len) < 0) break;
    ssize_t r = read(0, in.p + in.len, in.cap - in.len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      if (command && strcmp(command, "VERSION") == 0) break;
      static char d[128];
      snprintf(d, sizeof d, "cannot read the network configuration on stdin: %s", strerror(errno));
      fail(5, d, NULL);
    }
    if (r == 0) break;
    in.len += (size_t)r;
  }

  if (command && strcmp(command, "VERSION") == 0) {
    static const char v[] = VERSION_JSON "\n";
    return write_all(1, v, sizeof v - 1) < 0 ? 1 : 0;
  }
  if (in.over || in.len > MAX_STDIN) fail(5, "the network configuration on stdin is over 1 MiB", NULL);

  static struct netconf conf;
  if (read_netconf(in.p ? in.p : "", in.len, &conf) < 0) fail(6, "network configuration on stdin is not JSON", NULL);
  if (!conf.has_version) {
    error_version = "0.3.1"; /* what the plugin logic assumes without one */
  } else if (conf.version_len < sizeof conf.version) {
    conf.version[conf.version_len] = '\0';
    for (size_t i = 0; i < sizeof SUPPORTED / sizeof *SUPPORTED; i++)
      if (strcmp(conf.version, SUPPORTED[i]) == 0) error_version = SUPPORTED[i];
  }
  if (conf.has_socket) {
    if (conf.socket_len > MAX_SOCKET_PATH) {
      socket_path = "(ipam.socket, over 4096 bytes)";
      unreachable_errno(ENAMETOOLONG);
    }
    conf.socket[conf.socket_len] = '\0';
    socket_path = conf.socket;
    if (strlen(socket_path) != conf.socket_len) unreachable_errno(ENOENT); /* a NUL in the path */
  }

  /* The request: every CNI_* variable and stdin, as JSON. */
  struct buf body = {0};
  body.max = MAX_BODY;
  buf_str(&body, "{\"env\":{");
  int n = 0;
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    if (strncmp(*e, "CNI_", 4) != 0 || !eq) continue;
    if (n++) buf_put(&body, ",", 1);
    buf_json(&body, *e, (size_t)(eq - *e));
    buf_put(&body, ":", 1);
    buf_json(&body, eq + 1, strlen(eq + 1));
  }
  buf_str(&body, "},\"stdin\":");
  buf_json(&body, in.p ? in.p : "", in.len);
  buf_str(&body, "}");
  if (body.over) fail(5, "the request to the daemon (CNI_* environment and stdin) is over 1 MiB", NULL);
  char head[128];
  int hl = snprintf(head, sizeof head,
                    "POST /cni/exec HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n"
                    "content-type: application/json\r\ncontent-length: %zu\r\n\r\n",
                    body.len);

  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(socket_path) >= sizeof addr.sun_path) unreachable_errno(ENAMETOOLONG);
  memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) unreachable_errno(errno);
  long long deadline = now_ms() + TIMEOUT_MS;
  static char timeout[MAX_SOCKET_PATH + 64];
  snprintf(timeout, sizeof timeout, "no answer from %s within %d ms", socket_path, TIMEOUT_MS);
  /* A unix connect waits (up to SO_SNDTIMEO) only while the daemon's backlog is full. */
  struct timeval tv = {TIMEOUT_MS / 1000, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    if (errno == EAGAIN || errno == EINPROGRESS) unreachable(timeout);
    unreachable_errno(errno);
  }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) unreachable_errno(errno);
  const char *parts[2] = {head, body.p};
  size_t lens[2] = {(size_t)hl, body.len};
  for (int i = 0; i < 2; i++) {
    size_t off = 0;
    while (off < lens[i]) {
      ssize_t w = send(fd, parts[i] + off, lens[i] - off, MSG_NOSIGNAL);
      if (w >= 0) {
        off += (size_t)w;
      } else if (errno == EAGAIN || errno == EINTR) {
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r == 0) unreachable(timeout);
        if (r < 0) unreachable_errno(errno);
      } else {
        unreachable_errno(errno);
      }
    }
  }

  /* The answer, over as many reads as it takes, until content-length is in or the daemon closes. */
  struct buf res = {0};
  res.max = MAX_RESPONSE;
  int status = 0;
  const char *rbody = NULL;
  long blen;
  for (;;) {
    if (res.len == res.max || buf_reserve(&res, 65536 < res.max - res.len ? 65536 : res.max - res.len) < 0)
      unreachable("daemon answer is over 1 MiB");
    ssize_t r = read(fd, res.p + res.len, res.cap - res.len);
    if (r > 0) {
      res.len += (size_t)r;
      if ((blen = parse_response(res.p, res.len, 0, &status, &rbody)) >= 0) break;
    } else if (r == 0) {
      blen = parse_response(res.p ? res.p : "", res.len, 1, &status, &rbody);
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      int w = wait_fd(fd, POLLIN, deadline);
      if (w == 0) unreachable(timeout);
      if (w < 0) unreachable_errno(errno);
    } else {
      unreachable_errno(errno);
    }
  }
  close(fd);
  relay(status, rbody, (size_t)blen);
  return 1;
}
