/* Unit tests: the Okta API proxy's request judging and its rewriting of Link and Location. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "oktacred/okta_proxy.h"

#define SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int judge(const char *head, struct okta_proxy_req *r)
{
	return okta_proxy_judge(head, strlen(head), SECRET, r);
}

static int judge_only(const char *head)
{
	struct okta_proxy_req r;
	int status = judge(head, &r);

	buf_free(&r.headers);
	return status;
}

Test(okta_proxy_judge, passes_a_good_request_on_with_end_to_end_headers)
{
	struct okta_proxy_req r;
	const char *head = "POST /api/v1/groups?limit=2 HTTP/1.1\r\n"
	                   "Host: 127.0.0.1:5000\r\n"
	                   "Authorization: Bearer " SECRET "\r\n"
	                   "Content-Type: application/json\r\n"
	                   "Accept: application/json\r\n"
	                   "Connection: keep-alive, X-Hop\r\n"
	                   "X-Hop: 1\r\n"
	                   "Keep-Alive: timeout=5\r\n"
	                   "Content-Length: 12\r\n"
	                   "Expect: 100-continue\r\n"
	                   "X-Okta-User-Agent-Extended: terraform\r\n\r\n";

	cr_assert_eq(judge(head, &r), 0);
	cr_assert_str_eq(r.method, "POST");
	cr_assert_eq(r.target_len, strlen("/api/v1/groups?limit=2"));
	cr_assert_eq(r.content_length, 12);
	cr_assert_eq(r.expect_continue, 1);
	buf_append(&r.headers, NULL, 0);
	cr_assert_str_eq(r.headers.data, "Content-Type: application/json\r\n"
	                                 "Accept: application/json\r\n"
	                                 "X-Okta-User-Agent-Extended: terraform\r\n");
	buf_free(&r.headers);
}

Test(okta_proxy_judge, wants_the_secret)
{
	cr_assert_eq(judge_only("GET /api/v1/users/me HTTP/1.1\r\n\r\n"), 401);
	cr_assert_eq(judge_only("GET /api/v1/users/me HTTP/1.1\r\nAuthorization: Bearer x\r\n\r\n"),
	             401);
	cr_assert_eq(
	    judge_only("GET /api/v1/users/me HTTP/1.1\r\nAuthorization: Basic " SECRET "\r\n\r\n"),
	    401);
	cr_assert_eq(judge_only("GET /api/v1/users/me HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "\r\nAuthorization: Bearer " SECRET "\r\n\r\n"),
	             401);
	cr_assert_eq(judge_only("GET /api/v1/users/me HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "0\r\n\r\n"),
	             401);
	/* Before anything else is said: a wrong secret on a refused path is still 401. */
	cr_assert_eq(judge_only("GET /admin HTTP/1.1\r\nAuthorization: Bearer y\r\n\r\n"), 401);
	cr_assert_eq(
	    judge_only("GET /api/v1/users/me HTTP/1.1\r\nauthorization: bearer " SECRET "\r\n\r\n"),
	    0);
	cr_assert_eq(
	    judge_only("GET /api/v1/users/me HTTP/1.1\nAuthorization: SSWS " SECRET "\n\n"), 0);
}

static int judge_path(const char *method, const char *target)
{
	char head[512];

	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n", method,
	         target, SECRET);
	return judge_only(head);
}

Test(okta_proxy_judge, only_the_orgs_api_paths)
{
	cr_assert_eq(judge_path("GET", "/api/v1/users/me"), 0);
	cr_assert_eq(judge_path("GET", "/oauth2/v1/clients"), 0);
	cr_assert_eq(judge_path("GET", "/.well-known/okta-organization"), 0);
	cr_assert_eq(judge_path("GET", "/api/v1/users?search=profile.email%20eq%20%22a%22"), 0);
	cr_assert_eq(judge_path("GET", "/"), 403);
	cr_assert_eq(judge_path("GET", "/api"), 403);
	cr_assert_eq(judge_path("GET", "/admin/api/"), 403);
	cr_assert_eq(judge_path("GET", "/api/../admin"), 403);
	cr_assert_eq(judge_path("GET", "/api/./v1"), 403);
	cr_assert_eq(judge_path("GET", "/api/v1/.."), 403);
	cr_assert_eq(judge_path("GET", "/api/%2e%2e/admin"), 403);
	cr_assert_eq(judge_path("GET", "/api/%2F/admin"), 403);
	cr_assert_eq(judge_path("GET", "/api/\\admin"), 403);
	cr_assert_eq(judge_path("GET", "/api/v1/users/me?x=/../"), 0); /* the query is no path */
	cr_assert_eq(judge_path("GET", "/api/v1/.hidden"), 0);
	cr_assert_eq(judge_path("GET", "http://evil.example/api/v1/users"), 400);
	cr_assert_eq(judge_path("GET", "/api/v1/users#x"), 400);
	cr_assert_eq(judge_path("TRACE", "/api/v1/users"), 405);
	cr_assert_eq(judge_path("CONNECT", "/api/v1/users"), 405);
	cr_assert_eq(judge_path("get", "/api/v1/users"), 400);
	cr_assert_eq(judge_path("DELETE", "/api/v1/groups/00g1"), 0);
	cr_assert_eq(judge_path("PATCH", "/api/v1/groups/00g1"), 0);
}

Test(okta_proxy_judge, caps_and_framing)
{
	char head[16384];
	size_t o;
	int i;

	cr_assert_eq(judge_only("POST /api/v1/groups HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "\r\nContent-Length: 999999999\r\n\r\n"),
	             413);
	cr_assert_eq(judge_only("POST /api/v1/groups HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "\r\nTransfer-Encoding: chunked\r\n\r\n"),
	             411);
	cr_assert_eq(judge_only("POST /api/v1/groups HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n"),
	             400);
	cr_assert_eq(judge_only("POST /api/v1/groups HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "\r\nContent-Length: -1\r\n\r\n"),
	             400);
	cr_assert_eq(judge_only("GET /api/v1/groups HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "\r\nX-A: 1\r\n folded\r\n\r\n"),
	             400);
	cr_assert_eq(judge_only("GET /api/v1/groups HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "\r\nBad Name: 1\r\n\r\n"),
	             400);
	cr_assert_eq(judge_only("GET /api/v1/groups HTTP/1.1\r\nAuthorization: Bearer " SECRET
	                        "\r\nX-A: a\rb\r\n\r\n"),
	             400);
	o = (size_t)snprintf(head, sizeof(head),
	                     "GET /api/v1/groups HTTP/1.1\r\nAuthorization: Bearer " SECRET "\r\n");
	for (i = 0; i < OKTA_PROXY_HEADERS_MAX; i++)
		o += (size_t)snprintf(head + o, sizeof(head) - o, "X-%d: 1\r\n", i);
	snprintf(head + o, sizeof(head) - o, "\r\n");
	cr_assert_eq(judge_only(head), 431);
	cr_assert_eq(judge_only("GET /api/v1/groups\r\n\r\n"), 400);
	cr_assert_eq(judge_only("GET /api/v1/groups HTTP/2\r\n\r\n"), 400);
}

static void check_rewrite(const char *value, int whole, const char *want)
{
	struct buf out = BUF_INIT;

	okta_proxy_rewrite_urls(value, strlen(value), "https://dev-1.okta.com",
	                        "http://127.0.0.1:4000", whole, &out);
	buf_append(&out, NULL, 0);
	cr_assert_str_eq(out.data, want);
	buf_free(&out);
}

Test(okta_proxy_rewrite, links_and_location_point_back_at_the_proxy)
{
	check_rewrite("<https://dev-1.okta.com/api/v1/groups?limit=2>; rel=\"self\", "
	              "<https://DEV-1.okta.com/api/v1/groups?after=00g2&limit=2>; rel=\"next\"",
	              0,
	              "<http://127.0.0.1:4000/api/v1/groups?limit=2>; rel=\"self\", "
	              "<http://127.0.0.1:4000/api/v1/groups?after=00g2&limit=2>; rel=\"next\"");
	/* Another host, or one that only starts the same, stays. */
	check_rewrite("<https://dev-1.okta.com.evil.example/api/v1/x>; rel=\"next\"", 0,
	              "<https://dev-1.okta.com.evil.example/api/v1/x>; rel=\"next\"");
	check_rewrite("<https://dev-1.okta.com:8443/api>; rel=\"next\"", 0,
	              "<https://dev-1.okta.com:8443/api>; rel=\"next\"");
	check_rewrite("<http://dev-1.okta.com/api>; rel=\"next\"", 0,
	              "<http://dev-1.okta.com/api>; rel=\"next\"");
	check_rewrite("<unterminated", 0, "<unterminated");
	check_rewrite("https://dev-1.okta.com/api/v1/users/me", 1,
	              "http://127.0.0.1:4000/api/v1/users/me");
	check_rewrite("https://dev-1.okta.com", 1, "http://127.0.0.1:4000");
	check_rewrite("/relative", 1, "/relative");
}
