/* Built-in tool `calculator`: a recursive-descent evaluator for arithmetic
 * expressions ({"expression":"2+3*4"} -> [{"text":"14"}]). Nothing is ever
 * executed as code. The expression is parsed twice: a syntax pass (which
 * reports syntax errors, unknown names and wrong argument counts before any
 * arithmetic) and an evaluation pass (division by zero, domain errors).   */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/builtin/builtin.h"

/* Grammar (positions in messages count from 1):
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/' | '%') unary)*
 *   unary   := ('+' | '-') unary | power
 *   power   := primary (('^' | '**') unary)?      right-associative
 *   primary := number | constant | name '(' [expr (',' expr)*] ')'
 *            | '(' expr ')'
 * so -2^2 = -(2^2) and 2^-1 = 0.5. '%' is a floored modulo (the result has
 * the divisor's sign), round() rounds halves away from zero, and the trig
 * functions work in radians.                                              */

/* ---- locale-independent number conversion -------------------------------- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t get_c_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale;
}

static double text_to_double(const char *text)
{
    locale_t loc = get_c_locale();
    return loc ? strtod_l(text, NULL, loc) : strtod(text, NULL);
}

void builtin_calc_format(double v, char *out, size_t outsz)
{
    locale_t loc = get_c_locale();
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    if (v == 0)
        snprintf(out, outsz, "0");           /* also -0 */
    else if (v == trunc(v) && fabs(v) <= 9007199254740992.0)   /* 2^53 */
        snprintf(out, outsz, "%.0f", v);
    else
        snprintf(out, outsz, "%.15g", v);
    if (old) uselocale(old);
}

/* ---- lexer ---------------------------------------------------------------- */

typedef enum { TOK_END, TOK_NUM, TOK_NAME, TOK_OP, TOK_BAD } tok_kind;

typedef struct token {
    tok_kind kind;
    size_t pos;      /* byte offset of the first character */
    size_t len;
    char op;         /* TOK_OP: + - * / % ^ ( ) ,  ("**" is '^') */
    double num;      /* TOK_NUM */
} token;

typedef struct parser {
    const char *s;
    size_t len;
    size_t at;       /* scan offset of the next token */
    token tok;       /* current token */
    int depth;
    int eval;        /* 0: syntax pass, 1: evaluation pass */
    strands_error *err;
} parser;

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* 1-based position of a token, for messages. */
static size_t col(const token *t) { return t->pos + 1; }

/* Writes a short human description of a token into buf. */
static const char *describe(const parser *p, const token *t, char *buf,
                            size_t n)
{
    const char *text = p->s + t->pos;
    int tl = t->len > 32 ? 32 : (int)t->len;
    const char *more = t->len > 32 ? "..." : "";
    unsigned char c;
    switch (t->kind) {
    case TOK_END: snprintf(buf, n, "end of expression"); break;
    case TOK_NUM: snprintf(buf, n, "number '%.*s%s'", tl, text, more); break;
    case TOK_NAME: snprintf(buf, n, "name '%.*s%s'", tl, text, more); break;
    case TOK_OP: snprintf(buf, n, "'%.*s'", tl, text); break;
    case TOK_BAD:
        c = (unsigned char)text[0];
        if (c >= 0x20 && c < 0x7f)
            snprintf(buf, n, "character '%c'", c);
        else
            snprintf(buf, n, "byte 0x%02X", c);
        break;
    }
    return buf;
}

static int fail(parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(parser *p, const char *fmt, ...)
{
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    strands_error_set(p->err, STRANDS_E_INVALID, NULL, "%s", msg);
    return -1;
}

static int unexpected(parser *p)
{
    char what[64];
    return fail(p, "syntax error at position %zu: unexpected %s",
                col(&p->tok), describe(p, &p->tok, what, sizeof what));
}

/* Scans a number starting at p->at into p->tok. */
static int lex_number(parser *p)
{
    const char *s = p->s;
    size_t i = p->at, digits = 0;
    while (i < p->len && is_digit(s[i])) i++, digits++;
    if (i < p->len && s[i] == '.') {
        i++;
        while (i < p->len && is_digit(s[i])) i++, digits++;
    }
    if (digits == 0) {                    /* a lone '.' */
        p->tok.kind = TOK_BAD;
        p->tok.len = 1;
        return 0;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (s[j] == '+' || s[j] == '-')) j++;
        if (j < p->len && is_digit(s[j])) {
            while (j < p->len && is_digit(s[j])) j++;
            i = j;
        }
    }
    p->tok.kind = TOK_NUM;
    p->tok.len = i - p->at;
    char text[BUILTIN_CALC_MAX_LEN + 1];
    memcpy(text, s + p->at, p->tok.len);
    text[p->tok.len] = '\0';
    p->tok.num = text_to_double(text);
    if (!isfinite(p->tok.num)) {
        char what[64];
        return fail(p, "number out of range at position %zu: %s",
                    col(&p->tok), describe(p, &p->tok, what, sizeof what));
    }
    return 0;
}

/* Advances to the next token. */
static int next(parser *p)
{
    const char *s = p->s;
    while (p->at < p->len && is_space(s[p->at])) p->at++;
    p->tok.pos = p->at;
    p->tok.len = 0;
    if (p->at >= p->len) {
        p->tok.kind = TOK_END;
        return 0;
    }
    char c = s[p->at];
    if (is_digit(c) || c == '.') {
        if (lex_number(p) != 0) return -1;
    } else if (is_alpha(c)) {
        size_t i = p->at;
        while (i < p->len && (is_alpha(s[i]) || is_digit(s[i]))) i++;
        p->tok.kind = TOK_NAME;
        p->tok.len = i - p->at;
    } else if (c != '\0' && strchr("+-*/%^(),", c)) {
        p->tok.kind = TOK_OP;
        p->tok.op = c;
        p->tok.len = 1;
        if (c == '*' && p->at + 1 < p->len && s[p->at + 1] == '*') {
            p->tok.op = '^';
            p->tok.len = 2;
        }
    } else {
        p->tok.kind = TOK_BAD;
        p->tok.len = 1;
    }
    p->at += p->tok.len;
    return 0;
}

static int is_op(const parser *p, char op)
{
    return p->tok.kind == TOK_OP && p->tok.op == op;
}

/* ---- arithmetic ----------------------------------------------------------- */

static int check_result(parser *p, double v)
{
    if (isnan(v)) return fail(p, "domain error: result is not a real number");
    if (isinf(v)) return fail(p, "overflow: result is too large");
    return 0;
}

static int power(parser *p, double base, double ex, double *out)
{
    if (base == 0 && ex < 0) return fail(p, "division by zero");
    if (base < 0 && ex != trunc(ex))
        return fail(p, "domain error: negative number raised to a "
                       "non-integer power");
    *out = pow(base, ex);
    return check_result(p, *out);
}

static int binary(parser *p, char op, double a, double b, double *out)
{
    switch (op) {
    case '+': *out = a + b; break;
    case '-': *out = a - b; break;
    case '*': *out = a * b; break;
    case '/':
        if (b == 0) return fail(p, "division by zero");
        *out = a / b;
        break;
    case '%': {
        if (b == 0) return fail(p, "modulo by zero");
        double r = fmod(a, b);
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        *out = r;
        break;
    }
    default: return power(p, a, b, out);
    }
    return check_result(p, *out);
}

/* Domain classes for one-argument functions. */
enum { DOM_ANY, DOM_NONNEG, DOM_POS, DOM_UNIT };

typedef struct calc_fn {
    const char *name;
    int arity;
    double (*f1)(double);
    double (*f2)(double, double); /* NULL with arity 2: power */
    int domain;
} calc_fn;

static const calc_fn functions[] = {
    {"sqrt", 1, sqrt, NULL, DOM_NONNEG},
    {"sin", 1, sin, NULL, DOM_ANY},
    {"cos", 1, cos, NULL, DOM_ANY},
    {"tan", 1, tan, NULL, DOM_ANY},
    {"asin", 1, asin, NULL, DOM_UNIT},
    {"acos", 1, acos, NULL, DOM_UNIT},
    {"atan", 1, atan, NULL, DOM_ANY},
    {"log", 1, log, NULL, DOM_POS},
    {"log10", 1, log10, NULL, DOM_POS},
    {"log2", 1, log2, NULL, DOM_POS},
    {"exp", 1, exp, NULL, DOM_ANY},
    {"abs", 1, fabs, NULL, DOM_ANY},
    {"floor", 1, floor, NULL, DOM_ANY},
    {"ceil", 1, ceil, NULL, DOM_ANY},
    {"round", 1, round, NULL, DOM_ANY},
    {"min", 2, NULL, fmin, DOM_ANY},
    {"max", 2, NULL, fmax, DOM_ANY},
    {"pow", 2, NULL, NULL, DOM_ANY},
};

static const calc_fn *find_fn(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        if (strlen(functions[i].name) == len &&
            memcmp(functions[i].name, name, len) == 0)
            return &functions[i];
    }
    return NULL;
}

static int domain_ok(parser *p, const calc_fn *fn, double x)
{
    static const char *const need[] = {
        "", "must be >= 0", "must be > 0", "must be between -1 and 1"};
    int ok = fn->domain == DOM_ANY ||
             (fn->domain == DOM_NONNEG && x >= 0) ||
             (fn->domain == DOM_POS && x > 0) ||
             (fn->domain == DOM_UNIT && x >= -1 && x <= 1);
    if (ok) return 0;
    char arg[32];
    builtin_calc_format(x, arg, sizeof arg);
    return fail(p, "domain error: %s(%s) is undefined (argument %s)",
                fn->name, arg, need[fn->domain]);
}

static int apply_fn(parser *p, const calc_fn *fn, const double *args,
                    double *out)
{
    if (fn->arity == 2) {
        if (!fn->f2) return power(p, args[0], args[1], out);
        *out = fn->f2(args[0], args[1]);
    } else {
        if (domain_ok(p, fn, args[0]) != 0) return -1;
        *out = fn->f1(args[0]);
    }
    return check_result(p, *out);
}

/* ---- parser --------------------------------------------------------------- */

static int parse_expr(parser *p, double *out);
static int parse_unary(parser *p, double *out);

static int enter(parser *p)
{
    if (++p->depth > BUILTIN_CALC_MAX_DEPTH)
        return fail(p, "expression nested too deeply (maximum depth %d)",
                    BUILTIN_CALC_MAX_DEPTH);
    return 0;
}

/* Parses a nested sub-expression one level deeper: expr, or unary. */
static int nested(parser *p, int unary, double *out)
{
    if (enter(p) != 0) return -1;
    int rc = unary ? parse_unary(p, out) : parse_expr(p, out);
    p->depth--;
    return rc;
}

static int expect_close(parser *p)
{
    if (!is_op(p, ')')) {
        char what[64];
        return fail(p, "syntax error at position %zu: expected ')' but "
                       "found %s", col(&p->tok),
                    describe(p, &p->tok, what, sizeof what));
    }
    return next(p);
}

/* Called with the current token on '(' after a function name. */
static int parse_call(parser *p, const token *name, double *out)
{
    double args[2] = {0, 0};
    int argc = 0;
    *out = 0;
    if (next(p) != 0) return -1;
    if (!is_op(p, ')')) {
        for (;;) {
            double v;
            if (nested(p, 0, &v) != 0) return -1;
            if (argc < 2) args[argc] = v;
            if (argc < 1000) argc++;
            if (!is_op(p, ',')) break;
            if (next(p) != 0) return -1;
        }
    }
    if (expect_close(p) != 0) return -1;
    const char *text = p->s + name->pos;
    int tl = name->len > 32 ? 32 : (int)name->len;
    const calc_fn *fn = find_fn(text, name->len);
    if (!fn)
        return fail(p, "unknown function '%.*s%s'", tl, text,
                    name->len > 32 ? "..." : "");
    if (argc != fn->arity)
        return fail(p, "function '%s' takes %d argument%s, got %d", fn->name,
                    fn->arity, fn->arity == 1 ? "" : "s", argc);
    return p->eval ? apply_fn(p, fn, args, out) : 0;
}

static int parse_name(parser *p, double *out)
{
    token name = p->tok;
    const char *text = p->s + name.pos;
    if (next(p) != 0) return -1;
    if (is_op(p, '(')) return parse_call(p, &name, out);
    if (name.len == 2 && memcmp(text, "pi", 2) == 0) {
        *out = M_PI;
        return 0;
    }
    if (name.len == 1 && text[0] == 'e') {
        *out = M_E;
        return 0;
    }
    if (find_fn(text, name.len))
        return fail(p, "syntax error at position %zu: expected '(' after "
                       "function '%.*s'", col(&p->tok), (int)name.len, text);
    int tl = name.len > 32 ? 32 : (int)name.len;
    return fail(p, "unknown constant '%.*s%s'", tl, text,
                name.len > 32 ? "..." : "");
}

static int parse_primary(parser *p, double *out)
{
    switch (p->tok.kind) {
    case TOK_NUM:
        *out = p->tok.num;
        return next(p);
    case TOK_NAME:
        return parse_name(p, out);
    case TOK_OP:
        if (p->tok.op == '(') {
            if (next(p) != 0 || nested(p, 0, out) != 0) return -1;
            return expect_close(p);
        }
        return unexpected(p);
    default:
        return unexpected(p);
    }
}

static int parse_power(parser *p, double *out)
{
    double base, ex;
    if (parse_primary(p, &base) != 0) return -1;
    *out = base;
    if (!is_op(p, '^')) return 0;
    if (next(p) != 0 || nested(p, 1, &ex) != 0) return -1;
    return p->eval ? power(p, base, ex, out) : 0;
}

static int parse_unary(parser *p, double *out)
{
    if (is_op(p, '-') || is_op(p, '+')) {
        int neg = p->tok.op == '-';
        double v;
        if (next(p) != 0 || nested(p, 1, &v) != 0) return -1;
        *out = neg ? -v : v;
        return 0;
    }
    return parse_power(p, out);
}

static int parse_term(parser *p, double *out)
{
    double a, b;
    if (parse_unary(p, &a) != 0) return -1;
    while (is_op(p, '*') || is_op(p, '/') || is_op(p, '%')) {
        char op = p->tok.op;
        if (next(p) != 0 || parse_unary(p, &b) != 0) return -1;
        if (p->eval && binary(p, op, a, b, &a) != 0) return -1;
    }
    *out = a;
    return 0;
}

static int parse_expr(parser *p, double *out)
{
    double a, b;
    if (parse_term(p, &a) != 0) return -1;
    while (is_op(p, '+') || is_op(p, '-')) {
        char op = p->tok.op;
        if (next(p) != 0 || parse_term(p, &b) != 0) return -1;
        if (p->eval && binary(p, op, a, b, &a) != 0) return -1;
    }
    *out = a;
    return 0;
}

static int run_pass(parser *p, int eval, double *out)
{
    p->at = 0;
    p->depth = 0;
    p->eval = eval;
    if (next(p) != 0 || parse_expr(p, out) != 0) return -1;
    if (p->tok.kind != TOK_END) return unexpected(p);
    return 0;
}

strands_status builtin_calc_eval(const char *expr, size_t len, double *out,
                                 strands_error *err)
{
    if (!expr)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "expression is NULL");
    if (len > BUILTIN_CALC_MAX_LEN)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "expression too long (%zu characters, "
                                 "maximum %d)", len, BUILTIN_CALC_MAX_LEN);
    size_t i = 0;
    while (i < len && is_space(expr[i])) i++;
    if (i == len)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "empty expression");
    parser p = {.s = expr, .len = len, .err = err};
    double v = 0;
    if (run_pass(&p, 0, &v) != 0 || run_pass(&p, 1, &v) != 0)
        return STRANDS_E_INVALID;
    *out = v;
    return STRANDS_OK;
}

/* ---- the tool ------------------------------------------------------------- */

static strands_status calculator_run(void *user, const json_t *input,
                                     const strands_tool_context *ctx,
                                     json_t **content_out, strands_error *err)
{
    (void)user;
    (void)ctx;
    if (!json_is_object(input))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "input must be a JSON object with an "
                                 "\"expression\" string");
    const json_t *expr = json_object_get(input, "expression");
    if (!expr)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "missing required field \"expression\"");
    if (!json_is_string(expr))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"expression\" must be a string");
    double v;
    strands_status st = builtin_calc_eval(json_string_value(expr),
                                          json_string_length(expr), &v, err);
    if (st != STRANDS_OK) return st;
    char text[32];
    builtin_calc_format(v, text, sizeof text);
    *content_out = json_pack("[{s:s}]", "text", text);
    if (!*content_out)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    return STRANDS_OK;
}

const strands_tool_def builtin_calculator = {
    .name = "calculator",
    .description =
        "Evaluates an arithmetic expression and returns the number. "
        "Operators: + - * / % (floored modulo) ^ or ** (power, "
        "right-associative; -2^2 = -4), parentheses, unary minus, numbers "
        "such as 1.5e3. Constants: pi, e. Functions of one argument: sqrt, "
        "sin, cos, tan, asin, acos, atan (radians), log (natural), log10, "
        "log2, exp, abs, floor, ceil, round; of two arguments: min, max, "
        "pow. Example: \"2 * (3 + 4) ^ 2 / sqrt(16)\".",
    .input_schema_json =
        "{\"type\":\"object\",\"properties\":{\"expression\":{"
        "\"type\":\"string\",\"description\":\"The expression to evaluate, "
        "at most 1000 characters, e.g. \\\"2+3*4\\\"\"}},"
        "\"required\":[\"expression\"]}",
    .run = calculator_run,
};
