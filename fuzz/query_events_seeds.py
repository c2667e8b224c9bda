# query_events_seeds.py -- writes the seed corpus of fuzz/fuzz_query_events.c:
#     OUT=fuzz/corpus/query_events python3 fuzz/query_events_seeds.py
# Keep it in step with the grammar in that file (the order of its choices).
# Encodes choices for fuzz/fuzz_query_events.c's grammar: each choice is one
# byte whose value modulo the number of options is the option.
import os
F = dict(s=0, i=1, u=2, f=3, b=4, fileName=5, secret=6, x=7)
P = dict(LogWelcomeBanner=0, LogLaunch=1, LogEndFileHash=2, HealthCheckPing=3, Logstar=4, star=5, TransactionFailed=6)
D = {"1ns":0, "1ms":1, "1s":2, "10s":3, "1m":4, "1h":5, "1d":6}
E = dict(LogWelcomeBanner=0, LogLaunch=1, LogEndFileHash=2, HealthCheckPing=3, LogStartingFileHash=4, TransactionFailed=5)
def query(pat, ops, pat2=None):
    b = [P[pat]]
    b += [0, P[pat2]] if pat2 else [1]
    b += [len(ops) - 1]
    for o in ops: b += o
    return b
def program(queries):
    b = [len(queries) - 1]
    for q in queries: b += q
    return b
def flist(*names): return [len(names) - 1] + [F[n] for n in names]
where = lambda cond: [0] + cond
drop = [1]
project = lambda *n: [2] + flist(*n)
away = lambda *n: [3] + flist(*n)
rename = lambda f: [4, F[f]]
extend = lambda v: [5] + v
def redact(mask, fields=None, with_=3, key=0):
    b = [6, mask]
    b += [1] + flist(*fields) if fields else [0]
    b += [with_] + ([key] if with_ == 1 else [])
    return b
def sample(p=None, one_in=None, by=None, seed=None):
    b = [7] + ([1, p] if p is not None else [0, one_in - 1])
    b += [1, F[by]] if by else [0]
    b += [1, seed] if seed is not None else [0]
    return b
def throttle(n, per, by=None, keys=1):
    return [8, n, D[per]] + ([1, F[by], keys - 1] if by else [0])
# values
V = dict(field=lambda f: [0, F[f]], imul=lambda k: [1, k], fplus=[2], strlen=lambda f: [3, F[f]], lower=lambda f: [4, F[f]],
         upper=[5], substring=lambda f, a, b: [6, F[f], a, b], ext=[7], hash=lambda f: [8, F[f]], tostring=lambda f: [9, F[f]],
         udiv=lambda k: [10, k], imod=lambda k: [11, k])
# conditions (depth matters only past 2)
C = dict(cmp=lambda f, op, k: [0, F[f], op, k & 255], str=lambda f, op, lit: [1, F[f], op, lit], isnull=lambda f: [1, F[f]] and [2, 1, F[f]],
         isnotnull=lambda f: [2, 0, F[f]], between=lambda lo, hi: [3, lo, hi], in_=lambda lit: [4, lit], level=lambda warn: [5, warn],
         name=[6], nan=[7], not_=lambda c: [8] + c, and_=lambda a, b: [9] + a + b, or_=lambda a, b: [10] + a + b)
def agg(kind, *rest):
    # kind: 'count0' (first, default name), 'n' count, 'countif', 'pct', or one of sum..p999
    one = ["sum", "min", "max", "avg", "dcount", "p50", "p90", "p95", "p99", "p999"]
    if kind == "count0": return [0]
    if kind == "n": return [1]
    if kind == "countif": return [2] + rest[0]
    if kind == "pct": return [3] + rest[0] + [rest[1], rest[2]]
    return [4 + one.index(kind)] + rest[0]
def summarize(aggs, keys=(), every=None, groups=None, keep=False):
    b = [9, len(aggs) - 1, len(keys)]
    for a in aggs: b += a
    for k in keys: b += k
    b += [1, D[every]] if every else [0]
    if keys: b += [groups - 1]
    else: b += [1, groups - 1] if groups else [0]
    b += [1 if keep else 0]
    return b
KEY = dict(binTs=lambda d: [0, D[d]], named=lambda v: [1] + v, binI=lambda k: [2, k - 1], field=lambda f: [3, F[f]])
# events script
def ts_fwd(k=10): return [4, k]          # + k * 100 ms
def ts_min(k): return [1, k]             # + k minutes
def ts_back(k): return [0, k]            # - k seconds
def ts_same(): return [2, 1]
def ts_stamp(): return [3]
def val_str(s):
    s = s.encode("latin-1") if isinstance(s, str) else s
    return [1, 1, len(s)] + list(s)
def val_bytes(s): return [1, 0, len(s)] + list(s)
def val_pool(k): return [0, k]
def val_i64pool(k): return [2, k]
def val_i8(v): return [3, v & 255]
def val_u64pool(k): return [4, k]
def val_f64pool(k): return [5, k]
def val_bool(v): return [6, v]
def val_null(): return [7]
def ev(name, fields=(), level=9, ts=None, tid=0):
    b = [3 + 0] + (ts if ts is not None else ts_fwd())
    b += [len(fields)]
    for f, v in fields: b += [F[f]] + v
    b += [E[name], (level - 1) // 4, tid]
    return b
def tick(ts=None): return [0] + (ts if ts is not None else ts_min(1))
def flush(): return [1] + ts_fwd(1)
def redeploy(): return [2] + ts_fwd(1)
def write(name, prog, script):
    data = bytes(program(prog) + script)
    with open(os.path.join(OUT, name), "wb") as fp: fp.write(data)

OUT = os.environ["OUT"]
banner = lambda: ev("LogWelcomeBanner", [("secret", val_str("s1")), ("i", val_i8(7))])
launch = lambda: ev("LogLaunch", [("s", val_str("0.0.1"))])
# scenarios 1-7
write("s1-drop-chatty", [query("LogWelcomeBanner", [drop])], banner() + launch())
write("s2-suppress", [query("LogWelcomeBanner", [drop], "LogLaunch"), query("HealthCheckPing", [drop]),
                      query("LogEndFileHash", [away("fileName")]), query("TransactionFailed", [away("secret", "x")])],
      banner() + launch() + ev("HealthCheckPing") + ev("LogEndFileHash", [("fileName", val_str("a.txt")), ("u", val_u64pool(2))]) +
      redeploy() + ev("TransactionFailed", [("secret", val_pool(12)), ("x", val_i64pool(4)), ("s", val_str("ok"))]) + banner())
write("s3-log-to-metric", [query("LogWelcomeBanner", [summarize([agg("count0")], every="1m")])],
      sum([ev("LogWelcomeBanner", ts=ts_fwd(3)) for _ in range(40)], []) + tick(ts_min(2)) + banner())
write("s4-noisy-pair", [query("LogEndFileHash", [summarize([agg("n")], keys=[KEY["named"](V["ext"])], groups=8)]),
                        query("Logstar", [where(C["name"]), drop])],
      ev("LogStartingFileHash", [("fileName", val_str("C:\\a\\b.txt"))]) + ev("LogEndFileHash", [("fileName", val_str("C:\\a\\b.txt")), ("u", val_u64pool(4))]) +
      ev("LogEndFileHash", [("fileName", val_str("x.PDF"))]) + ev("LogEndFileHash", [("fileName", val_str("noext"))]) + tick(ts_min(3)))
write("s5-sample-throttle", [query("HealthCheckPing", [throttle(10, "1m")]), query("LogLaunch", [sample(one_in=100, seed=42)])],
      sum([ev("HealthCheckPing", ts=ts_fwd(1)) for _ in range(12)], []) + ev("HealthCheckPing", ts=ts_min(1)) +
      sum([ev("LogLaunch", level=5, ts=ts_fwd(1)) for _ in range(30)], []))
write("s6-drop-field", [query("LogWelcomeBanner", [away("secret")])],
      ev("LogWelcomeBanner", [("secret", val_str("s1")), ("i", val_i64pool(3))]) + ev("TransactionFailed", [("secret", val_str("s2"))]))
secrets = [val_pool(k) for k in range(8, 17)]
write("s7-redact-hash", [query("star", [redact(255, with_=1, key=1)])],
      sum([ev("LogLaunch", [("s", v), ("secret", val_pool(16))]) for v in secrets], []))
write("s7-redact-marker", [query("Logstar", [redact(0b10010101, ["s", "secret"], with_=0)])],
      sum([ev("LogWelcomeBanner", [("secret", v)]) for v in secrets], []))
# every operator, condition, value and aggregate
write("where-all", [query("star", [where(C["and_"](C["cmp"]("i", 4, 3), C["or_"](C["str"]("s", 0, 1), C["not_"](C["nan"])))),
                                   where(C["or_"](C["between"](5, 9), C["in_"](0))), where(C["or_"](C["level"](1), C["isnotnull"]("x")))])],
      ev("LogLaunch", [("i", val_i8(5)), ("s", val_str("Logs"))]) + ev("LogLaunch", [("f", val_f64pool(7))], level=13) +
      ev("LogLaunch", [("s", val_str("b")), ("x", val_null())]))
write("where-strings", [query("star", [where(C["or_"](C["str"]("s", 3, 3), C["str"]("fileName", 6, 0))), where(C["str"]("secret", 4, 4)),
                                       where(C["str"]("s", 1, 1))])],
      ev("LogLaunch", [("s", val_str("Log ghp_x")), ("secret", val_str("ghp_")), ("fileName", val_str("zz"))]))
write("project-rename-extend", [query("star", [project("s", "i", "fileName"), rename("fileName"), extend(V["substring"]("s", 1, 3)),
                                               extend(V["imul"](3)), away("i")])],
      ev("LogLaunch", [("s", val_str("hello")), ("i", val_i64pool(4)), ("fileName", val_str("a.b")), ("secret", val_str("x"))]) +
      ev("LogLaunch", [("i", val_i64pool(5))]))
write("extend-values", [query("star", [extend(V["fplus"]), extend(V["strlen"]("s")), extend(V["lower"]("s")), extend(V["upper"]),
                                       extend(V["ext"])]),
                        query("star", [extend(V["hash"]("s")), extend(V["tostring"]("f")), extend(V["udiv"](0)), extend(V["imod"](7))])],
      ev("LogEndFileHash", [("s", val_str(b"\xff\xfeMiXeD")), ("f", val_f64pool(8)), ("u", val_u64pool(2)), ("i", val_i64pool(5)),
                            ("fileName", val_str("dir/file.tar.gz"))]) +
      ev("LogEndFileHash", [("f", val_f64pool(7)), ("u", val_u64pool(3)), ("i", val_i64pool(4))]))
write("sample-by", [query("star", [sample(p=5, by="s", seed=3), sample(one_in=2)])],
      sum([ev("LogLaunch", [("s", val_str(chr(65 + k)))], ts=ts_fwd(1)) for k in range(20)], []))
write("throttle-by", [query("HealthCheckPing", [throttle(2, "10s", by="s", keys=2)])],
      sum([ev("HealthCheckPing", [("s", val_str("k%d" % (k % 4)))], ts=ts_fwd(5)) for k in range(24)], []))
write("summarize-all", [query("star", [summarize([agg("count0"), agg("countif", C["cmp"]("i", 4, 0)), agg("sum", V["field"]("i")),
                                                  agg("min", V["field"]("f"))], keys=[KEY["binTs"]("1m"), KEY["field"]("s")], every="1m", groups=3, keep=True)]),
                        query("star", [summarize([agg("max", V["field"]("f")), agg("avg", V["field"]("i")), agg("dcount", V["field"]("s")),
                                                  agg("pct", V["field"]("f"), 99, 9)], keys=[KEY["binI"](10)], every="10s", groups=2)])],
      sum([ev("LogLaunch", [("i", val_i8(k * 37)), ("f", val_f64pool(k % 10)), ("s", val_pool(k % 5))], ts=ts_fwd(7)) for k in range(24)], []) +
      tick(ts_min(1)) + flush())
write("summarize-percentiles", [query("star", [summarize([agg("p50", V["field"]("f")), agg("p90", V["field"]("i")), agg("p95", V["field"]("u")),
                                                          agg("p99", V["field"]("f"))], every="1s")]),
                                query("star", [summarize([agg("p999", V["strlen"]("s"))], keys=[KEY["named"](V["lower"]("s"))], groups=4)])],
      sum([ev("HealthCheckPing", [("f", val_f64pool(k % 10)), ("i", val_i64pool(k % 8)), ("u", val_u64pool(k % 5)), ("s", val_pool(k % 18))], ts=ts_fwd(3)) for k in range(30)], []))
write("summarize-overflow-carry", [query("star", [summarize([agg("n"), agg("sum", V["field"]("u"))], keys=[KEY["field"]("s")], every="1h", groups=2)])],
      sum([ev("LogLaunch", [("s", val_str("g%d" % k)), ("u", val_u64pool(k % 5))]) for k in range(6)], []) + redeploy() +
      sum([ev("LogLaunch", [("s", val_str("g%d" % k))]) for k in range(6)], []) + tick(ts_min(61)))
write("time-back-and-forth", [query("star", [throttle(3, "1s"), summarize([agg("count0"), agg("sum", V["field"]("f"))], every="1s", keep=True)])],
      ev("LogLaunch", [("f", val_f64pool(8))]) + ev("LogLaunch", ts=ts_back(5)) + ev("LogLaunch", ts=ts_stamp()) + ev("LogLaunch", ts=ts_same()) +
      ev("LogLaunch", [("f", val_f64pool(7))], ts=ts_min(2)) + tick() + ev("LogLaunch", ts=ts_back(200)) + flush() + flush() + ev("LogLaunch"))
write("values-extreme", [query("star", [summarize([agg("sum", V["field"]("i")), agg("min", V["field"]("u")), agg("max", V["field"]("f")),
                                                  agg("avg", V["field"]("x"))], keep=True)])],
      ev("LogLaunch", [("i", val_i64pool(4)), ("u", val_u64pool(2)), ("f", val_f64pool(8)), ("x", val_str("str"))]) +
      ev("LogLaunch", [("i", val_i64pool(4)), ("u", val_u64pool(3)), ("f", val_f64pool(9)), ("x", val_bool(1))]) +
      ev("LogLaunch", [("i", val_i64pool(5)), ("u", val_u64pool(0)), ("f", val_f64pool(7)), ("x", val_bytes(b"\x00\x01"))]) +
      ev("LogLaunch", [("i", val_i64pool(6)), ("s", val_pool(4)), ("s", val_pool(5)), ("b", val_bool(0))] + [("x", val_i8(k)) for k in range(8)]))
write("many-queries", [query("Logstar", [where(C["level"](0)), redact(3)]), query("LogLaunch", [project("s"), extend(V["upper"])]),
                       query("star", [sample(p=9), throttle(1, "1ms", by="s", keys=3)]), query("TransactionFailed", [summarize([agg("n")], every="1ns")])],
      sum([ev(n, [("s", val_pool(k % 18))], level=5 + 4 * (k % 4), ts=ts_fwd(k)) for k, n in enumerate(list(E) * 3)], []) + tick())
write("regress-handover-taken-slot", [query("LogWelcomeBanner", [drop], "LogLaunch"), query("HealthCheckPing", [drop]),
                                      query("LogEndFileHash", [away("fileName")]), query("TransactionFailed", [away("secret", "x")])],
      redeploy())
