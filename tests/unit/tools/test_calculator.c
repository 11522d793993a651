/* Tests for the calculator built-in (src/tools/builtin/calculator.c): the
 * expression grammar (precedence, associativity, functions, constants),
 * number formatting, every error message, the length and depth bounds,
 * and the tool's JSON interface through a registry.                     */
#include <locale.h>
#include <math.h>

#include "strands/tool.h"
#include "test.h"
#include "tools/builtin/builtin.h"

/* Evaluates expr and returns the formatted result, or "error: <message>". */
static const char *calc(const char *expr)
{
    static char out[STRANDS_ERROR_MESSAGE_MAX + 16];
    strands_error err;
    strands_error_clear(&err);
    double v = 12345;
    strands_status st = builtin_calc_eval(expr, strlen(expr), &v, &err);
    if (st != STRANDS_OK) {
        snprintf(out, sizeof out, "error: %s", err.message);
        if (st != STRANDS_E_INVALID || err.status != STRANDS_E_INVALID)
            snprintf(out, sizeof out, "bad status %d", (int)st);
        return out;
    }
    builtin_calc_format(v, out, sizeof out);
    return out;
}

static void test_basic_arithmetic(void)
{
    CHECK_STR(calc("2+3*4"), "14");
    CHECK_STR(calc("(2+3)*4"), "20");
    CHECK_STR(calc("10-4-3"), "3");          /* left-associative */
    CHECK_STR(calc("100/10/5"), "2");
    CHECK_STR(calc("2*3/4"), "1.5");
    CHECK_STR(calc("7-2*3+1"), "2");
    CHECK_STR(calc("  1 +\t2\n*\r3 "), "7");
    CHECK_STR(calc("42"), "42");
    CHECK_STR(calc("((((7))))"), "7");
}

static void test_power(void)
{
    CHECK_STR(calc("2^10"), "1024");
    CHECK_STR(calc("2^3^2"), "512");         /* right-associative */
    CHECK_STR(calc("(2^3)^2"), "64");
    CHECK_STR(calc("-2^2"), "-4");           /* power binds tighter */
    CHECK_STR(calc("(-2)^2"), "4");
    CHECK_STR(calc("2^-1"), "0.5");
    CHECK_STR(calc("2^-2^2"), "0.0625");     /* 2^(-(2^2)) */
    CHECK_STR(calc("2*3^2"), "18");
    CHECK_STR(calc("2**3"), "8");            /* ** is an alias */
    CHECK_STR(calc("2**3**2"), "512");
    CHECK_STR(calc("(-8)^(1/3*3)"), "-8");
    CHECK_STR(calc("0^0"), "1");
    CHECK_STR(calc("pow(2, 8)"), "256");
    CHECK_STR(calc("4^0.5"), "2");
}

static void test_unary(void)
{
    CHECK_STR(calc("-5"), "-5");
    CHECK_STR(calc("+5"), "5");
    CHECK_STR(calc("--5"), "5");
    CHECK_STR(calc("-+-5"), "5");
    CHECK_STR(calc("3--2"), "5");
    CHECK_STR(calc("3*-2"), "-6");
    CHECK_STR(calc("-(2+3)"), "-5");
    CHECK_STR(calc("-0"), "0");              /* never "-0" */
    CHECK_STR(calc("0*-1"), "0");
}

static void test_modulo(void)
{
    CHECK_STR(calc("7%3"), "1");
    CHECK_STR(calc("-7%3"), "2");            /* floored: divisor's sign */
    CHECK_STR(calc("7%-3"), "-2");
    CHECK_STR(calc("-7%-3"), "-1");
    CHECK_STR(calc("5.5%2"), "1.5");
    CHECK_STR(calc("6%3"), "0");
    CHECK_STR(calc("2+7%3*2"), "4");         /* % with * precedence */
}

static void test_numbers(void)
{
    CHECK_STR(calc("1.5e3"), "1500");
    CHECK_STR(calc("1.5E3"), "1500");
    CHECK_STR(calc("2e-3"), "0.002");
    CHECK_STR(calc("2e+2"), "200");
    CHECK_STR(calc(".5"), "0.5");
    CHECK_STR(calc("5."), "5");
    CHECK_STR(calc("0.1+0.2"), "0.3");
    CHECK_STR(calc("1/3"), "0.333333333333333");
    CHECK_STR(calc("2/3"), "0.666666666666667");
    CHECK_STR(calc("1e20"), "1e+20");
    CHECK_STR(calc("2^53"), "9007199254740992");
    CHECK_STR(calc("2^53*2"), "1.8014398509482e+16");
    CHECK_STR(calc("1e-7"), "1e-07");
    CHECK_STR(calc("123456789*1000"), "123456789000");
    CHECK_STR(calc("007"), "7");
}

static void test_format(void)
{
    char buf[32];
    builtin_calc_format(-0.0, buf, sizeof buf);
    CHECK_STR(buf, "0");
    builtin_calc_format(14.0, buf, sizeof buf);
    CHECK_STR(buf, "14");
    builtin_calc_format(-2.5, buf, sizeof buf);
    CHECK_STR(buf, "-2.5");
    builtin_calc_format(-1e300, buf, sizeof buf);
    CHECK_STR(buf, "-1e+300");
}

static void test_constants_and_functions(void)
{
    CHECK_STR(calc("pi"), "3.14159265358979");
    CHECK_STR(calc("e"), "2.71828182845905");
    CHECK_STR(calc("2*pi"), "6.28318530717959");
    CHECK_STR(calc("sqrt(16)"), "4");
    CHECK_STR(calc("sqrt(2)"), "1.4142135623731");
    CHECK_STR(calc("sin(0)"), "0");
    CHECK_STR(calc("cos(0)"), "1");
    CHECK_STR(calc("tan(0)"), "0");
    CHECK_STR(calc("sin(pi/2)"), "1");
    CHECK_STR(calc("asin(1)*2"), "3.14159265358979");
    CHECK_STR(calc("acos(1)"), "0");
    CHECK_STR(calc("atan(1)*4"), "3.14159265358979");
    CHECK_STR(calc("log(e)"), "1");
    CHECK_STR(calc("log(1)"), "0");
    CHECK_STR(calc("log10(1000)"), "3");
    CHECK_STR(calc("log2(1024)"), "10");
    CHECK_STR(calc("exp(0)"), "1");
    CHECK_STR(calc("exp(1)"), "2.71828182845905");
    CHECK_STR(calc("abs(-3.5)"), "3.5");
    CHECK_STR(calc("floor(-2.5)"), "-3");
    CHECK_STR(calc("ceil(-2.5)"), "-2");
    CHECK_STR(calc("ceil(2.1)"), "3");
    CHECK_STR(calc("round(2.5)"), "3");      /* halves away from zero */
    CHECK_STR(calc("round(-2.5)"), "-3");
    CHECK_STR(calc("round(2.4)"), "2");
    CHECK_STR(calc("min(3, -1)"), "-1");
    CHECK_STR(calc("max(3, -1)"), "3");
    CHECK_STR(calc("max(min(1,2), 1+1)"), "2");
    CHECK_STR(calc("sqrt(3^2+4^2)"), "5");
    CHECK_STR(calc("-sqrt(4)^2"), "-4");
    CHECK_STR(calc("2^sqrt(4)"), "4");
}

static void test_syntax_errors(void)
{
    CHECK_STR(calc("2+3*)"),
              "error: syntax error at position 5: unexpected ')'");
    CHECK_STR(calc("2+3)"),
              "error: syntax error at position 4: unexpected ')'");
    CHECK_STR(calc("2+"),
              "error: syntax error at position 3: unexpected end of "
              "expression");
    CHECK_STR(calc("(1+2"),
              "error: syntax error at position 5: expected ')' but found "
              "end of expression");
    CHECK_STR(calc("sqrt(4"),
              "error: syntax error at position 7: expected ')' but found "
              "end of expression");
    CHECK_STR(calc("2 3"),
              "error: syntax error at position 3: unexpected number '3'");
    CHECK_STR(calc("2pi"),
              "error: syntax error at position 2: unexpected name 'pi'");
    CHECK_STR(calc("2 $ 3"),
              "error: syntax error at position 3: unexpected character '$'");
    CHECK_STR(calc("1 + \xcf\x80"),
              "error: syntax error at position 5: unexpected byte 0xCF");
    CHECK_STR(calc("."),
              "error: syntax error at position 1: unexpected character '.'");
    CHECK_STR(calc("()"),
              "error: syntax error at position 2: unexpected ')'");
    CHECK_STR(calc("2***3"),
              "error: syntax error at position 4: unexpected '*'");
    CHECK_STR(calc("*2"),
              "error: syntax error at position 1: unexpected '*'");
    CHECK_STR(calc("1,2"),
              "error: syntax error at position 2: unexpected ','");
    CHECK_STR(calc("2^"),
              "error: syntax error at position 3: unexpected end of "
              "expression");
    CHECK_STR(calc("sqrt 4"),
              "error: syntax error at position 6: expected '(' after "
              "function 'sqrt'");
    CHECK_STR(calc("max(1,)"),
              "error: syntax error at position 7: unexpected ')'");
    CHECK_STR(calc(""), "error: empty expression");
    CHECK_STR(calc(" \t\n"), "error: empty expression");
    CHECK_STR(calc("1e999"),
              "error: number out of range at position 1: number '1e999'");
}

static void test_embedded_nul(void)
{
    strands_error err;
    double v;
    CHECK_INT(builtin_calc_eval("1+\0" "2", 4, &v, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "syntax error at position 3: unexpected byte 0x00");
    CHECK_INT(builtin_calc_eval(NULL, 0, &v, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "expression is NULL");
}

static void test_name_errors(void)
{
    CHECK_STR(calc("foo(2)"), "error: unknown function 'foo'");
    CHECK_STR(calc("pi(2)"), "error: unknown function 'pi'");
    CHECK_STR(calc("x + 1"), "error: unknown constant 'x'");
    CHECK_STR(calc("PI"), "error: unknown constant 'PI'");
    CHECK_STR(calc("sqrt(1, 2)"),
              "error: function 'sqrt' takes 1 argument, got 2");
    CHECK_STR(calc("sqrt()"),
              "error: function 'sqrt' takes 1 argument, got 0");
    CHECK_STR(calc("max(1)"),
              "error: function 'max' takes 2 arguments, got 1");
    CHECK_STR(calc("min(1,2,3)"),
              "error: function 'min' takes 2 arguments, got 3");
    CHECK_STR(calc("pow(2)"),
              "error: function 'pow' takes 2 arguments, got 1");
    /* Long names are cut in messages. */
    CHECK_STR(calc("abcdefghijabcdefghijabcdefghijabcdefghij(1)"),
              "error: unknown function 'abcdefghijabcdefghijabcdefghijab...'");
}

static void test_runtime_errors(void)
{
    CHECK_STR(calc("1/0"), "error: division by zero");
    CHECK_STR(calc("1/(2-2)"), "error: division by zero");
    CHECK_STR(calc("5%0"), "error: modulo by zero");
    CHECK_STR(calc("0^-1"), "error: division by zero");
    CHECK_STR(calc("pow(0, -2)"), "error: division by zero");
    CHECK_STR(calc("sqrt(-1)"),
              "error: domain error: sqrt(-1) is undefined (argument must be "
              ">= 0)");
    CHECK_STR(calc("log(0)"),
              "error: domain error: log(0) is undefined (argument must be "
              "> 0)");
    CHECK_STR(calc("log10(-2.5)"),
              "error: domain error: log10(-2.5) is undefined (argument "
              "must be > 0)");
    CHECK_STR(calc("log2(0)"),
              "error: domain error: log2(0) is undefined (argument must be "
              "> 0)");
    CHECK_STR(calc("asin(2)"),
              "error: domain error: asin(2) is undefined (argument must be "
              "between -1 and 1)");
    CHECK_STR(calc("acos(-1.5)"),
              "error: domain error: acos(-1.5) is undefined (argument must "
              "be between -1 and 1)");
    CHECK_STR(calc("(-8)^(1/3)"),
              "error: domain error: negative number raised to a non-integer "
              "power");
    CHECK_STR(calc("10^400"), "error: overflow: result is too large");
    CHECK_STR(calc("exp(1000)"), "error: overflow: result is too large");
    CHECK_STR(calc("1e308*10"), "error: overflow: result is too large");
    CHECK_STR(calc("1e308+1e308"), "error: overflow: result is too large");
    CHECK_STR(calc("-1e308-1e308"), "error: overflow: result is too large");
    /* Syntax errors win over arithmetic errors that come first. */
    CHECK_STR(calc("1/0 + )"),
              "error: syntax error at position 7: unexpected ')'");
    CHECK_STR(calc("1/0 + foo(1)"), "error: unknown function 'foo'");
}

static void test_length_bound(void)
{
    char expr[BUILTIN_CALC_MAX_LEN + 2];
    /* "1+1+...+1" of exactly 999 characters: 500 ones. */
    size_t n = 0;
    for (int i = 0; i < 500; i++) {
        if (i) expr[n++] = '+';
        expr[n++] = '1';
    }
    expr[n++] = ' ';                          /* 1000 characters: allowed */
    expr[n] = '\0';
    CHECK_INT(n, BUILTIN_CALC_MAX_LEN);
    CHECK_STR(calc(expr), "500");
    expr[n++] = ' ';                          /* 1001: too long */
    expr[n] = '\0';
    CHECK_STR(calc(expr),
              "error: expression too long (1001 characters, maximum 1000)");
}

static void nested_parens(char *buf, int depth)
{
    int n = 0;
    for (int i = 0; i < depth; i++) buf[n++] = '(';
    buf[n++] = '1';
    for (int i = 0; i < depth; i++) buf[n++] = ')';
    buf[n] = '\0';
}

static void test_depth_bound(void)
{
    char buf[BUILTIN_CALC_MAX_LEN + 1];
    const char *too_deep =
        "error: expression nested too deeply (maximum depth 100)";
    nested_parens(buf, 100);
    CHECK_STR(calc(buf), "1");
    nested_parens(buf, 101);
    CHECK_STR(calc(buf), too_deep);

    /* Unary chains and power towers count too. */
    memset(buf, '-', 100);
    strcpy(buf + 100, "1");
    CHECK_STR(calc(buf), "1");
    memset(buf, '-', 101);
    strcpy(buf + 101, "1");
    CHECK_STR(calc(buf), too_deep);

    int n = 0;
    for (int i = 0; i < 101; i++) n += sprintf(buf + n, "1^");
    strcpy(buf + n, "1");
    CHECK_STR(calc(buf), too_deep);
    buf[n - 1] = '\0';                       /* 100 '^' */
    CHECK_STR(calc(buf), "1");

    /* Function calls nest: sqrt(sqrt(...(1)...)) 101 deep. */
    n = 0;
    for (int i = 0; i < 101; i++) n += sprintf(buf + n, "abs(");
    buf[n++] = '1';
    for (int i = 0; i < 101; i++) buf[n++] = ')';
    buf[n] = '\0';
    CHECK_STR(calc(buf), too_deep);

    /* A long flat sum is not deep. */
    n = 0;
    for (int i = 0; i < 300; i++) n += sprintf(buf + n, "1+");
    strcpy(buf + n, "1");
    CHECK_STR(calc(buf), "301");
}

static void test_locale_independent(void)
{
    /* A comma-decimal locale must not change parsing or output. */
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8"};
    const char *set = NULL;
    for (size_t i = 0; !set && i < 3; i++) set = setlocale(LC_ALL, names[i]);
    if (!set) SKIP("no comma-decimal locale installed");
    CHECK_STR(calc("1.5*3"), "4.5");
    CHECK_STR(calc("1/4"), "0.25");
    setlocale(LC_ALL, "C");
}

/* ---- the tool through a registry ------------------------------------------ */

static strands_tool_registry *calc_registry(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    if (reg && strands_tool_registry_add_builtin(reg, "calculator", &err) !=
                   STRANDS_OK) {
        strands_tool_registry_free(reg);
        return NULL;
    }
    return reg;
}

/* Calls the tool with JSON input text; returns the status. */
static strands_status call_json(const strands_tool *tool, const char *input,
                                json_t **content, strands_error *err)
{
    json_t *in = input ? json_loads(input, 0, NULL) : NULL;
    strands_status st = strands_tool_call(tool, in, NULL, content, err);
    json_decref(in);
    return st;
}

static void test_tool_success(void)
{
    strands_tool_registry *reg = calc_registry();
    CHECK(reg != NULL);
    if (!reg) return;
    const strands_tool *tool = strands_tool_registry_find(reg, "calculator");
    CHECK(tool != NULL);
    json_t *content = NULL;
    strands_error err;
    CHECK_INT(call_json(tool, "{\"expression\":\"2+3*4\"}", &content, &err),
              STRANDS_OK);
    char *text = json_dumps(content, JSON_COMPACT);
    CHECK_STR(text, "[{\"text\":\"14\"}]");
    free(text);
    json_decref(content);

    /* Extra fields are ignored. */
    CHECK_INT(call_json(tool, "{\"expression\":\"1/4\",\"x\":1}", &content,
                        &err), STRANDS_OK);
    CHECK_STR(json_string_value(json_object_get(json_array_get(content, 0),
                                                "text")), "0.25");
    json_decref(content);
    strands_tool_registry_free(reg);
}

static void test_tool_input_errors(void)
{
    strands_tool_registry *reg = calc_registry();
    if (!reg) {
        CHECK(reg != NULL);
        return;
    }
    const strands_tool *tool = strands_tool_registry_find(reg, "calculator");
    json_t *content = (json_t *)1;
    strands_error err;
    static const struct { const char *in, *msg; } cases[] = {
        {"{}", "missing required field \"expression\""},
        {"{\"expr\":\"1\"}", "missing required field \"expression\""},
        {"{\"expression\":12}", "\"expression\" must be a string"},
        {"{\"expression\":null}", "\"expression\" must be a string"},
        {"[\"1+1\"]",
         "input must be a JSON object with an \"expression\" string"},
        {NULL, "input must be a JSON object with an \"expression\" string"},
        {"{\"expression\":\"1/0\"}", "division by zero"},
        {"{\"expression\":\"2+3*)\"}",
         "syntax error at position 5: unexpected ')'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(call_json(tool, cases[i].in, &content, &err),
                  STRANDS_E_INVALID);
        CHECK(content == NULL);
        CHECK_INT(err.status, STRANDS_E_INVALID);
        CHECK_STR(err.message, cases[i].msg);
    }
    /* A 1001-character expression string is refused before parsing. */
    char big[1100];
    snprintf(big, sizeof big, "{\"expression\":\"%01001d\"}", 0);
    CHECK_INT(call_json(tool, big, &content, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message,
              "expression too long (1001 characters, maximum 1000)");
    strands_tool_registry_free(reg);
}

static void test_tool_spec(void)
{
    strands_tool_registry *reg = calc_registry();
    if (!reg) {
        CHECK(reg != NULL);
        return;
    }
    const json_t *spec = json_object_get(
        json_array_get(strands_tool_registry_specs(reg), 0), "toolSpec");
    CHECK_STR(json_string_value(json_object_get(spec, "name")), "calculator");
    const char *desc =
        json_string_value(json_object_get(spec, "description"));
    CHECK(desc && strstr(desc, "sqrt") && strstr(desc, "pi"));
    const json_t *schema =
        json_object_get(json_object_get(spec, "inputSchema"), "json");
    char *text = json_dumps(json_object_get(schema, "required"),
                            JSON_COMPACT);
    CHECK_STR(text, "[\"expression\"]");
    free(text);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(schema, "properties"),
                                  "expression"), "type")), "string");
    strands_tool_registry_free(reg);
}

int main(void)
{
    RUN(test_basic_arithmetic);
    RUN(test_power);
    RUN(test_unary);
    RUN(test_modulo);
    RUN(test_numbers);
    RUN(test_format);
    RUN(test_constants_and_functions);
    RUN(test_syntax_errors);
    RUN(test_embedded_nul);
    RUN(test_name_errors);
    RUN(test_runtime_errors);
    RUN(test_length_bound);
    RUN(test_depth_bound);
    RUN(test_locale_independent);
    RUN(test_tool_success);
    RUN(test_tool_input_errors);
    RUN(test_tool_spec);
    return test_report();
}
