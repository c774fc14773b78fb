vcl 4.1;
# Varnish 7 in front of Broadsheet: the cache's half of the caching contract (the app's half
# is broadsheet/core/caching.py; docs/deployment.md). In short: the app decides what may be shared (Cache-Control: public
# with s-maxage) and tags each page with surrogate keys (the xkey header); publishing purges
# by key; readers keep getting the last good pages while the app is away, and writes are
# refused plainly rather than lost.
#
# The lines marked "rendered" are filled in by whoever starts varnishd: scripts/prod.sh
# sets the backend's address, tests/deploy/test_varnish_vcl.py also shortens the probe's
# interval and the healthy grace. As committed the file is the one-machine default and
# compiles as it is: varnishd -C -f "$PWD/deploy/varnish/broadsheet.vcl"

import std;
import xkey;

# The app: gunicorn on loopback. /healthz answers 200 only when the app and its database
# answer, so "healthy" here means "a page can be built".
backend app {
    .host = "127.0.0.1"; # rendered: app host
    .port = "8100"; # rendered: app port
    .connect_timeout = 2s;
    # A cold page on a big archive takes well under this; a slower answer is a stuck worker.
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
    .probe = {
        .url = "/healthz";
        .interval = 1s; # rendered: probe interval
        # Generous against a busy app: under a flood the probe waits in gunicorn's queue
        # behind readers, and a probe timing out must not turn writes away (the drill saw
        # 2 s run out on a saturated machine, and one vote refused with Varnish's 503).
        .timeout = 5s;
        # Healthy while 3 of the last 5 probes answered 200: sick about 3 s after the app
        # stops answering, healthy again after 3 good answers.
        .window = 5;
        .threshold = 3;
        # Start healthy: prod.sh starts Varnish only once the app answers.
        .initial = 3;
    }
}

# Who may purge: the app's own machine. On separate machines add the app servers' addresses.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # The grace retry's flag (vcl_synth) is Varnish's own; a reader cannot send it.
    if (req.restarts == 0) {
        unset req.http.X-Broadsheet-Stale-Ok;
    }

    # Varnish has already appended the reader's address to X-Forwarded-For; the app trusts
    # exactly one proxy (BROADSHEET_TRUSTED_PROXIES=1) and so sees the real reader.

    # Purges by surrogate key from the app (broadsheet/core/caching.py): every object whose
    # xkey header holds any of the listed keys. `xkey-purge` removes them at once: what was
    # taken down (a withdrawn story, a rejected comment) is never shown again, even from
    # grace. `xkey-softpurge` (an update, a new comment) marks them stale instead: the next
    # reader gets the old copy while one background fetch brings the new one, so a flood
    # never waits on a render, and grace still has a copy if the app is down. Only from the
    # purgers ACL: anyone else purging could empty the cache in front of a flood.
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "Method not allowed"));
        }
        if (req.http.xkey-purge) {
            set req.http.X-Purged = xkey.purge(req.http.xkey-purge);
        } elsif (req.http.xkey-softpurge) {
            set req.http.X-Purged = xkey.softpurge(req.http.xkey-softpurge);
        } else {
            return (synth(400, "An xkey-purge or xkey-softpurge header naming the keys is required"));
        }
        return (synth(200, "Purged"));
    }

    # Methods HTTP does not know are refused here rather than piped to the app.
    if (req.method !~ "^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$") {
        return (synth(405, "Method not allowed"));
    }

    # Writes (votes, comments, sign-ups, the admin) always go to the app with their cookies.
    # When the app is known to be down, say so at once instead of making the reader wait
    # for a connection that will fail: nothing was saved and the reader can simply retry.
    if (req.method != "GET" && req.method != "HEAD") {
        if (!std.healthy(req.backend_hint)) {
            return (synth(503, "Service Unavailable"));
        }
        return (pass);
    }

    # Never cached, cookies kept: the health check (Varnish must see the app's own answer),
    # the admin, the per-reader engagement endpoints (votes, comment forms, tallies), the
    # newsletter's sign-up and confirmation pages, and Wagtail's own views (password-
    # protected pages, previews).
    if (req.url ~ "^/healthz/?(\?|$)" || req.url ~ "^/(admin|engagement|newsletter|_util)/") {
        return (pass);
    }

    # Staff signed in (Django's session cookie) see drafts' links, the admin bar and their
    # own messages: everything they ask for goes to the app.
    if (req.http.Cookie ~ "(^|;)\s*sessionid=") {
        return (pass);
    }

    # Search keeps its cookies and is cached only when the app marks a result public.
    # Every other page is the same for every reader: readers' own cookies (bs_reader, used
    # only by /engagement/) must not split the cache or make Varnish skip it.
    if (req.url !~ "^/search/") {
        unset req.http.Cookie;
    }

    # Grace: while the app is healthy, a page up to 10 s past its lifetime is served at
    # once while a fresh copy is fetched in the background (one fetch, however many readers
    # ask). While it is sick, serve whatever is kept (up to a day, below). On a retry after
    # a failed fetch (vcl_synth), serve the stale copy too.
    if (req.restarts > 0 && req.http.X-Broadsheet-Stale-Ok) {
        set req.grace = 24h;
    } elsif (std.healthy(req.backend_hint)) {
        set req.grace = 10s; # rendered: healthy grace
    }
    return (hash);
}

sub vcl_backend_response {
    # The app failed to build a page it may have a good copy of here (502-504: its
    # database or a worker is away). Fetched for the cache, the answer is abandoned rather
    # than stored, because storing even an uncacheable answer retires the stale copy: a
    # background refresh keeps serving the old page, and a reader's own fetch goes back
    # through vcl_synth, which retries once accepting the stale copy. When that retry finds
    # none (X-Broadsheet-Stale-Ok), and for writes and other passes, the reader gets the
    # app's own answer (its 503 page carries Retry-After).
    if (beresp.status >= 502 && beresp.status <= 504 && !bereq.uncacheable
        && !bereq.http.X-Broadsheet-Stale-Ok) {
        return (abandon);
    }
    if (beresp.status >= 500 && bereq.is_bgfetch) {
        return (abandon);
    }

    # Kept for a day past its lifetime so that it can stand in while the app is away, and
    # a further hour so that an expired copy can be revalidated with If-None-Match /
    # If-Modified-Since (the feeds answer 304) instead of fetched whole.
    set beresp.grace = 24h;
    set beresp.keep = 1h;

    # Only what the app says is shareable is stored: Cache-Control "public" with a lifetime
    # for shared caches (s-maxage, which Varnish honours before max-age; pages send
    # max-age=0 so browsers revalidate). Static files from whitenoise are public with a
    # long max-age under names that change with their content, and are stored too.
    # Anything else (private, no-store, no Cache-Control, a Set-Cookie, an error) goes to
    # this one reader only and is remembered as "not cacheable" for a minute
    # (hit-for-miss): requests for it go straight to the app instead of queueing behind
    # each other for a shared copy, and a later cacheable answer is still stored.
    if (beresp.http.Set-Cookie
        || beresp.status >= 500
        || beresp.http.Cache-Control !~ "(?i)(^|[,\s])public([,\s]|$)"
        || beresp.http.Cache-Control ~ "(?i)(private|no-store|no-cache)"
        || !(beresp.http.Cache-Control ~ "(?i)s-maxage=[1-9]"
            || (bereq.url ~ "^/static/" && beresp.http.Cache-Control ~ "(?i)max-age=[1-9]"))) {
        set beresp.uncacheable = true;
        set beresp.ttl = 60s;
        if (beresp.status >= 500) {
            # An error is not a page's usual answer: ask again on the next request.
            set beresp.ttl = 1s;
        }
        set beresp.grace = 0s;
        set beresp.keep = 0s;
        return (deliver);
    }
    return (deliver);
}

sub vcl_backend_error {
    # The app could not be reached (refused, timed out, or known sick). A page fetched for
    # the cache is abandoned, like a 503 above, so that vcl_synth can look for a stale copy.
    if (!bereq.uncacheable && !bereq.http.X-Broadsheet-Stale-Ok) {
        return (abandon);
    }
    # A write, a page that is never cached, or one with no copy kept: the plain answer
    # readers can act on, stored nowhere.
    set beresp.ttl = 0s;
    set beresp.grace = 0s;
    set beresp.uncacheable = true;
    set beresp.http.Content-Type = "text/plain; charset=utf-8";
    set beresp.http.Retry-After = "5";
    set beresp.http.Cache-Control = "no-store";
    if (bereq.method == "GET" || bereq.method == "HEAD") {
        synthetic({"The newsroom is briefly unavailable; please try again in a few seconds.
"});
    } else {
        synthetic({"The newsroom is briefly unavailable; nothing was saved, please try again in a few seconds.
"});
    }
    return (deliver);
}

sub vcl_deliver {
    # Surrogate keys are for purging, not for readers (they name story ids). Tests and
    # operators on the machine itself can see them with X-Debug-Keys: 1.
    if (!(req.http.X-Debug-Keys == "1" && client.ip ~ purgers)) {
        unset resp.http.xkey;
    }

    # Whether this answer came from the cache (Age says how old it is).
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    return (deliver);
}

sub vcl_synth {
    # A page fetch was abandoned (above): the app is unreachable or failing, perhaps before
    # the probe noticed. Look once more, this time accepting any stale copy within its
    # day of grace; with none, that second fetch's answer goes out (the flag also reaches
    # the app, which ignores it).
    if (resp.status == 503 && req.restarts == 0
        && (req.method == "GET" || req.method == "HEAD")) {
        set req.http.X-Broadsheet-Stale-Ok = "1";
        return (restart);
    }
    if (req.method == "PURGE" && resp.status == 200) {
        # The app logs how many objects each purge removed.
        set resp.http.X-Purged = req.http.X-Purged;
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        set resp.body = req.http.X-Purged + {"
"};
        return (deliver);
    }
    if (resp.status == 503) {
        # The app is known to be down: a write refused at once (vcl_recv).
        set resp.http.Retry-After = "5";
        set resp.http.Cache-Control = "no-store";
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        if (req.method == "GET" || req.method == "HEAD") {
            set resp.body = {"The newsroom is briefly unavailable; please try again in a few seconds.
"};
        } else {
            set resp.body = {"The newsroom is briefly unavailable; nothing was saved, please try again in a few seconds.
"};
        }
        return (deliver);
    }
    set resp.http.Content-Type = "text/plain; charset=utf-8";
    set resp.body = resp.reason + {"
"};
    return (deliver);
}
