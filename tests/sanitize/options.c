/* options.c: linked only into the ASan + UBSan builds (mk/sanitize.mk): the sanitizers'
 * defaults, so that every process of the suite checks the same way and writes its report
 * to SAN_LOG_DIR whatever environment a test hands it. ASAN_OPTIONS etc. still override. */
#ifndef SAN_LOG_DIR
#error "SAN_LOG_DIR must be defined"
#endif

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__lsan_default_options(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:"
	       "strict_string_checks=1:check_initialization_order=1:log_path=" SAN_LOG_DIR
	       "/report";
}

const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1:abort_on_error=1:log_path=" SAN_LOG_DIR
	       "/report";
}

const char *__lsan_default_options(void)
{
	return "print_suppressions=0:suppressions=" SAN_LSAN_SUPP;
}
