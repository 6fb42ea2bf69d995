#!/usr/bin/env python3
"""Reproducible git history for benches/compare_git.sh (stdlib only).

Writes one `git fast-import` stream for a synthetic monorepo: Go, Python, TypeScript,
JavaScript and Rust services edited a few lines at a time, Kubernetes manifests and Helm
charts whose image tags roll forward, lockfiles rewritten now and then, a few binary
images, feature branches merged back, a branch never merged, tags, and one tag whose
commit no branch reaches. Every random choice comes from one seeded generator and every
author and committer date is fixed, so the commit ids are the same on every run.

About 40 credentials of well-known formats are planted along the way; most are removed a
few commits later, some stay at HEAD. They are generated here to the published formats
(checksums included) and are not live. The manifest lists, for each, its kind, path,
line, value and the id of the commit that introduced it (from fast-import's marks).

    history_corpus.py --repo DIR --manifest FILE [--commits 6000] [--seed N]
"""

import argparse
import base64
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import zlib
from random import Random

EPOCH = 1614585600  # 2021-03-01T08:00:00Z
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALNUM = BASE62
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Planted values never contain these (scanners drop obvious placeholders).
BANNED = ("example", "test", "dummy", "fake", "sample", "xxxx", "secret", "token", "key")

AUTHORS = [
    ("Maya Lindqvist", "maya.lindqvist@acme-corp.io", "+0100"),
    ("Daniel Okafor", "daniel.okafor@acme-corp.io", "+0000"),
    ("Priya Raman", "priya.raman@acme-corp.io", "+0530"),
    ("Tomás Herrera", "tomas.herrera@acme-corp.io", "-0300"),
    ("Wei Zhang", "wei.zhang@acme-corp.io", "+0800"),
    ("Sophie Laurent", "sophie.laurent@acme-corp.io", "+0100"),
    ("Jonas Becker", "jonas.becker@acme-corp.io", "+0100"),
    ("Aisha Mensah", "aisha.mensah@acme-corp.io", "+0000"),
    ("Kenji Watanabe", "kenji.watanabe@acme-corp.io", "+0900"),
    ("Laura Rossi", "laura.rossi@acme-corp.io", "+0100"),
    ("Ethan Brooks", "ethan.brooks@acme-corp.io", "-0500"),
    ("Nadia Petrova", "nadia.petrova@acme-corp.io", "+0200"),
    ("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com", "+0000"),
]
AUTHOR_WEIGHTS = [9, 8, 8, 6, 6, 5, 5, 4, 4, 3, 3, 2, 6]

SERVICES = [
    ("orders", "go"), ("payments", "go"), ("inventory", "go"), ("gateway", "go"),
    ("billing", "python"), ("reports", "python"), ("notifications", "python"),
    ("scoring", "python"), ("web", "ts"), ("admin-ui", "ts"), ("search", "ts"),
    ("webhooks", "js"), ("ledger", "rust"), ("ingest", "rust"),
]
ENVS = ["dev", "staging", "prod"]

NOUNS = [
    "order", "invoice", "customer", "payment", "ledger", "account", "session", "cart",
    "shipment", "stock", "catalog", "price", "discount", "refund", "webhook", "event",
    "queue", "worker", "batch", "cache", "tenant", "region", "audit", "report", "metric",
    "export", "profile", "address", "notification", "subscription", "plan", "coupon",
    "warehouse", "carrier", "label", "schedule", "quota", "limit", "user", "merchant",
    "payout", "dispute", "receipt", "tax", "currency", "country", "channel", "template",
]
VERBS = [
    "load", "save", "sync", "validate", "resolve", "publish", "fetch", "refresh", "cancel",
    "retry", "archive", "compute", "render", "parse", "index", "reconcile", "emit", "flush",
    "expire", "migrate", "enqueue", "apply", "merge", "split", "group", "filter", "normalize",
]
COMMENTS = [
    "TODO: @v@ the @n@ before returning",
    "@V@ @n@s in batches to keep memory flat",
    "Keep in sync with the @n@ schema in the ledger service",
    "NOTE: @n@ ids are tenant-scoped",
    "The upstream API returns 409 when the @n@ already exists",
    "Retry at most @i@ times; the caller owns backoff",
    "FIXME: this double-counts @n@s created during a failover",
    "@n@ lookups are cached for @i@ minutes",
    "Callers must hold the @n@ lock",
    "See ADR-0@i@ for why @n@s are soft-deleted",
    "Deprecated: use @V@@N@V2 instead",
    "Guard against a nil @n@ from older clients",
]


def cap(s):
    return s[:1].upper() + s[1:]


class Filler:
    """Fills @x@ placeholders in a template from the generator."""

    def __init__(self, rng):
        self.rng = rng

    def __call__(self, tpl, svc="orders"):
        rng = self.rng
        n = rng.choice(NOUNS)
        v = rng.choice(VERBS)
        i = rng.choice([2, 3, 5, 8, 10, 15, 30, 60, 100, 250, 500, 1000])

        def sub(m):
            k = m.group(1)
            if k == "n":
                return n
            if k == "N":
                return cap(n)
            if k == "v":
                return v
            if k == "V":
                return cap(v)
            if k == "i":
                return str(i)
            if k == "U":
                return svc.upper().replace("-", "_")
            if k == "s":
                return svc
            if k == "c":
                return self(rng.choice(COMMENTS), svc)
            if k == "w":
                return rng.choice(NOUNS)
            return m.group(0)

        return re.sub(r"@(\w)@", sub, tpl)


# Statement templates per language; a template is one or more lines, "\t"/"    " added
# by the caller as indentation. "~" stands for one extra level of indentation.
STMTS = {
    "go": [
        ["@n@, err := s.@n@s.Get(ctx, id)", "if err != nil {", "~return nil, fmt.Errorf(\"@v@ @n@: %w\", err)", "}"],
        ["log.Printf(\"@v@ @n@ %s\", id)"],
        ["s.metrics.@N@@V@Total.Inc()"],
        ["// @c@"],
        ["ctx, cancel := context.WithTimeout(ctx, @i@*time.Second)", "defer cancel()"],
        ["if len(@n@s) > @i@ {", "~@n@s = @n@s[:@i@]", "}"],
        ["token := r.Header.Get(\"Authorization\")"],
        ["dbPassword := os.Getenv(\"@U@_DB_PASSWORD\")"],
        ["@n@ID := uuid.NewString()"],
        ["for _, item := range @n@s {", "~total += item.Amount", "}"],
        ["req.Header.Set(\"X-@N@-Version\", \"@i@\")"],
        ["if err := s.cache.Set(ctx, \"@n@:\"+id, @n@, @i@*time.Minute); err != nil {", "~log.Printf(\"cache @n@: %v\", err)", "}"],
        ["deadline := time.Now().Add(@i@ * time.Second)"],
        ["s.logger.Info(\"@v@\", zap.String(\"@n@_id\", id), zap.Int(\"attempt\", attempt))"],
        ["apiKey := cfg.@N@APIKey"],
        ["select {", "case <-ctx.Done():", "~return nil, ctx.Err()", "case @n@ := <-s.@n@Ch:", "~_ = @n@", "}"],
    ],
    "python": [
        ["@n@ = self.repo.get_@n@(@n@_id)"],
        ["logger.info(\"@v@ @n@ %s\", @n@_id)"],
        ["if not @n@:", "~raise NotFound(\"@n@\")"],
        ["api_key = os.environ.get(\"@U@_API_KEY\")"],
        ["# @c@"],
        ["retries = @i@"],
        ["for item in @n@s:", "~total += item.amount"],
        ["@n@s = [x for x in @n@s if x.tenant_id == tenant_id]"],
        ["with self.session.begin():", "~self.session.add(@n@)"],
        ["password = settings.DATABASES[\"default\"][\"PASSWORD\"]"],
        ["headers = {\"Authorization\": f\"Bearer {self.access_token}\"}"],
        ["cache.set(f\"@n@:{@n@_id}\", @n@, timeout=@i@)"],
        ["if len(@n@s) > @i@:", "~@n@s = @n@s[:@i@]"],
        ["metrics.counter(\"@n@_@v@_total\").inc()"],
        ["resp = self.client.post(f\"/v1/@n@s/{@n@_id}/@v@\", json=payload, timeout=@i@)"],
        ["deadline = time.monotonic() + @i@"],
    ],
    "ts": [
        ["const @n@ = await this.@n@Repo.findOne({ where: { id } });"],
        ["logger.info(`@v@ @n@ ${id}`);"],
        ["if (!@n@) {", "~throw new NotFoundError('@n@');", "}"],
        ["// @c@"],
        ["const token = req.headers.authorization ?? '';"],
        ["const apiKey = process.env.@U@_API_KEY;"],
        ["const @n@s: @N@[] = items.filter((x) => x.tenantId === tenantId);"],
        ["for (const item of @n@s) {", "~total += item.amount;", "}"],
        ["metrics.increment('@n@.@v@');"],
        ["await this.cache.set(`@n@:${id}`, @n@, { ttl: @i@ });"],
        ["const res = await fetch(`${baseUrl}/v1/@n@s/${id}`, { headers: { Authorization: `Bearer ${session.accessToken}` } });"],
        ["if (@n@s.length > @i@) {", "~@n@s.length = @i@;", "}"],
        ["setState((prev) => ({ ...prev, @n@Loading: false }));"],
        ["const timeoutMs = @i@ * 1000;"],
    ],
    "js": [
        ["const @n@ = await db.@n@s.findById(id);"],
        ["logger.info('@v@ @n@', { id });"],
        ["if (!@n@) {", "~return res.status(404).json({ error: '@n@ not found' });", "}"],
        ["// @c@"],
        ["const signature = req.get('X-Signature-256');"],
        ["const secret = process.env.@U@_WEBHOOK_SECRET;"],
        ["for (const item of @n@s) {", "~total += item.amount;", "}"],
        ["metrics.increment('@n@.@v@');"],
        ["await queue.add('@v@-@n@', { id }, { attempts: @i@ });"],
        ["const hmac = crypto.createHmac('sha256', secret).update(rawBody).digest('hex');"],
        ["if (@n@s.length > @i@) @n@s = @n@s.slice(0, @i@);"],
        ["res.set('Cache-Control', 'max-age=@i@');"],
    ],
    "rust": [
        ["let @n@ = self.store.get_@n@(id).await?;"],
        ["tracing::info!(%id, \"@v@ @n@\");"],
        ["if @n@s.len() > @i@ {", "~@n@s.truncate(@i@);", "}"],
        ["// @c@"],
        ["let api_key = std::env::var(\"@U@_API_KEY\").context(\"@U@_API_KEY\")?;"],
        ["for item in &@n@s {", "~total += item.amount;", "}"],
        ["let deadline = Instant::now() + Duration::from_secs(@i@);"],
        ["metrics::counter!(\"@n@_@v@_total\").increment(1);"],
        ["let @n@ = match self.cache.get(&id) {", "~Some(x) => x,", "~None => return Err(Error::NotFound(\"@n@\")),", "};"],
        ["let token = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());"],
        ["self.@n@_tx.send(@N@Event::@V@ { id }).await?;"],
    ],
}
INDENT = {"go": "\t", "python": "    ", "ts": "  ", "js": "  ", "rust": "    "}
EXT = {"go": ".go", "python": ".py", "ts": ".ts", "js": ".js", "rust": ".rs"}


class Gen:
    """Text generators for every kind of file in the tree."""

    def __init__(self, rng):
        self.rng = rng
        self.fill = Filler(rng)

    def stmt(self, lang, ind, svc):
        tpl = self.rng.choice(STMTS[lang])
        text = self.fill("\n".join(tpl).replace("~", INDENT[lang]), svc)
        return [ind + t for t in text.split("\n")]

    def body(self, lang, ind, svc, lo=3, hi=10):
        out = []
        for _ in range(self.rng.randint(lo, hi)):
            out += self.stmt(lang, ind, svc)
        return out

    def source(self, lang, svc, name):
        rng, f = self.rng, self.fill
        ind = INDENT[lang]
        if lang == "go":
            pkg = name.split("/")[-2] if "/" in name else "main"
            lines = [f"package {pkg}", "", "import (", '\t"context"', '\t"fmt"', '\t"log"',
                     '\t"os"', '\t"time"', "", '\t"github.com/google/uuid"', '\t"go.uber.org/zap"',
                     f'\t"github.com/acme-corp/platform/services/{svc}/internal/store"', ")", ""]
            for _ in range(rng.randint(2, 7)):
                n, v = rng.choice(NOUNS), rng.choice(VERBS)
                if rng.random() < 0.3:
                    lines += [f"type {cap(n)}{cap(v)}Request struct {{",
                              '\tID        string `json:"id"`',
                              '\tTenantID  string `json:"tenant_id"`',
                              '\tCreatedAt time.Time `json:"created_at"`', "}", ""]
                lines += [f"// {cap(v)}{cap(n)} " + f(rng.choice(COMMENTS), svc),
                          f"func (s *Service) {cap(v)}{cap(n)}(ctx context.Context, id string) (*store.{cap(n)}, error) {{"]
                lines += self.body(lang, ind, svc)
                lines += ["\treturn nil, nil", "}", ""]
        elif lang == "python":
            lines = ['"""' + f(rng.choice(COMMENTS), svc) + '"""', "", "import logging", "import os",
                     "import time", "", f"from {svc.replace('-', '_')}.errors import NotFound",
                     f"from {svc.replace('-', '_')}.settings import settings", "",
                     "logger = logging.getLogger(__name__)", "", ""]
            for _ in range(rng.randint(1, 3)):
                n = rng.choice(NOUNS)
                lines += [f"class {cap(n)}Service:", "    def __init__(self, repo, client, session):",
                          "        self.repo = repo", "        self.client = client",
                          "        self.session = session", ""]
                for _ in range(rng.randint(2, 5)):
                    lines += [f"    def {rng.choice(VERBS)}_{rng.choice(NOUNS)}(self, {n}_id, tenant_id=None):"]
                    lines += self.body(lang, ind * 2, svc)
                    lines += ["        return None", ""]
                lines += [""]
        elif lang in ("ts", "js"):
            lines = ["import { logger } from '../lib/logger';", "import { metrics } from '../lib/metrics';"]
            if lang == "ts":
                lines += ["import type { Request, Response } from 'express';", "import { NotFoundError } from '../errors';"]
            lines += [""]
            for _ in range(rng.randint(2, 6)):
                n, v = rng.choice(NOUNS), rng.choice(VERBS)
                sig = f"(id: string, tenantId: string): Promise<{cap(n)} | null>" if lang == "ts" else "(req, res)"
                lines += [f"// {f(rng.choice(COMMENTS), svc)}", f"export async function {v}{cap(n)}{sig} {{"]
                lines += self.body(lang, ind, svc)
                lines += ["  return null;" if lang == "ts" else "  return res.json({ ok: true });", "}", ""]
        else:  # rust
            lines = ["use std::time::{Duration, Instant};", "", "use anyhow::Context;",
                     "use http::header::AUTHORIZATION;", "", "use crate::error::Error;",
                     "use crate::store::Store;", ""]
            n = rng.choice(NOUNS)
            lines += [f"pub struct {cap(n)}Service {{", "    store: Store,", f"    {n}_tx: Sender<{cap(n)}Event>,", "}", "",
                      f"impl {cap(n)}Service {{"]
            for _ in range(rng.randint(2, 6)):
                lines += [f"    /// {f(rng.choice(COMMENTS), svc)}",
                          f"    pub async fn {rng.choice(VERBS)}_{rng.choice(NOUNS)}(&self, id: Uuid) -> Result<(), Error> {{"]
                lines += self.body(lang, ind * 2, svc)
                lines += ["        Ok(())", "    }", ""]
            lines += ["}"]
        return lines

    def edit_source(self, lang, lines, svc):
        rng = self.rng
        new = list(lines)
        ops = rng.choice([1, 1, 1, 2, 2, 3])
        for _ in range(ops):
            body = [i for i, l in enumerate(new) if l.startswith(INDENT[lang]) and l.strip() not in ("}", ")", "};")]
            if not body:
                new += self.stmt(lang, INDENT[lang], svc)
                continue
            i = rng.choice(body)
            ind = re.match(r"\s*", new[i]).group(0)
            r = rng.random()
            shrink = len(new) > 450
            if r < 0.45 and not shrink:
                new[i:i + 1] = self.stmt(lang, ind, svc)
            elif r < 0.8 and not shrink:
                new[i:i] = self.stmt(lang, ind, svc)
            elif r < 0.9 and not shrink:
                m = re.search(r"\b(\d+)\b", new[i])
                if m:
                    new[i] = new[i][:m.start(1)] + str(rng.choice([3, 4, 6, 12, 20, 45, 90, 120, 300])) + new[i][m.end(1):]
                else:
                    new[i:i + 1] = self.stmt(lang, ind, svc)
            else:
                del new[i:i + rng.randint(1, 4)]
        return new

    def doc(self, title, svc):
        rng, f = self.rng, self.fill
        lines = [f"# {title}", ""]
        for _ in range(rng.randint(3, 8)):
            lines += [f"## {cap(rng.choice(VERBS))} {rng.choice(NOUNS)}s", ""]
            for _ in range(rng.randint(2, 6)):
                lines += [f(rng.choice(COMMENTS), svc) + "."]
            lines += [""]
            r = rng.random()
            if r < 0.3:
                lines += ["```sh", f"kubectl -n {svc} get pods -l app.kubernetes.io/name={svc}",
                          f"kubectl -n {svc} rollout status deploy/{svc}", "```", ""]
            elif r < 0.5:
                lines += ["```sh", f"export DATABASE_URL=postgres://{svc.replace('-', '_')}:${{DB_PASSWORD}}@localhost:5432/{svc.replace('-', '_')}",
                          f"make -C services/{svc} migrate", "```", ""]
            elif r < 0.65:
                lines += ["```sh", f'curl -H "Authorization: Bearer $TOKEN" https://api.acme-corp.io/v1/{rng.choice(NOUNS)}s', "```", ""]
            elif r < 0.8:
                lines += [f"- `{rng.choice(NOUNS)}_id`: tenant-scoped identifier",
                          f"- `{rng.choice(NOUNS)}_at`: RFC 3339 timestamp", ""]
        return lines

    def edit_doc(self, lines, svc):
        rng = self.rng
        new = list(lines)
        i = rng.randrange(2, len(new)) if len(new) > 2 else len(new)
        if rng.random() < 0.6 or len(new) < 20:
            new[i:i] = [self.fill(rng.choice(COMMENTS), svc) + "."]
        elif len(new) > 20:
            del new[i:i + 1]
        return new


# --- Kubernetes and Helm -----------------------------------------------------------

def deployment(svc, env, tag, replicas, cpu, mem, extra_env):
    ns = svc
    lines = [
        "apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {svc}", f"  namespace: {ns}",
        "  labels:", f"    app.kubernetes.io/name: {svc}", "    app.kubernetes.io/part-of: acme-platform",
        f"    acme-corp.io/environment: {env}", "spec:", f"  replicas: {replicas}",
        "  revisionHistoryLimit: 5", "  selector:", "    matchLabels:", f"      app.kubernetes.io/name: {svc}",
        "  template:", "    metadata:", "      labels:", f"        app.kubernetes.io/name: {svc}",
        "      annotations:", '        prometheus.io/scrape: "true"', '        prometheus.io/port: "9090"',
        "    spec:", f"      serviceAccountName: {svc}", "      securityContext:", "        runAsNonRoot: true",
        "        runAsUser: 10001", "      containers:", f"        - name: {svc}",
        f"          image: registry.acme-corp.io/platform/{svc}:{tag}", "          imagePullPolicy: IfNotPresent",
        "          ports:", "            - containerPort: 8080", "              name: http",
        "            - containerPort: 9090", "              name: metrics", "          env:",
        "            - name: LOG_LEVEL", f"              value: {'debug' if env == 'dev' else 'info'}",
        "            - name: DB_HOST", "              valueFrom:", "                configMapKeyRef:",
        f"                  name: {svc}-config", "                  key: DB_HOST",
        "            - name: DB_PASSWORD", "              valueFrom:", "                secretKeyRef:",
        f"                  name: {svc}-db", "                  key: password",
    ]
    for k, v in extra_env:
        lines += [f"            - name: {k}", f"              value: \"{v}\""]
    lines += [
        "          resources:", "            requests:", f"              cpu: {cpu}m", f"              memory: {mem}Mi",
        "            limits:", f"              memory: {mem * 2}Mi", "          readinessProbe:", "            httpGet:",
        "              path: /healthz", "              port: http", "            periodSeconds: 10",
        "          livenessProbe:", "            httpGet:", "              path: /livez", "              port: http",
        "            initialDelaySeconds: 15",
    ]
    return lines


def k8s_service(svc):
    return ["apiVersion: v1", "kind: Service", "metadata:", f"  name: {svc}", f"  namespace: {svc}",
            "  labels:", f"    app.kubernetes.io/name: {svc}", "spec:", "  type: ClusterIP", "  selector:",
            f"    app.kubernetes.io/name: {svc}", "  ports:", "    - name: http", "      port: 80",
            "      targetPort: http", "    - name: metrics", "      port: 9090", "      targetPort: metrics"]


def configmap(svc, env, rng):
    db = svc.replace("-", "_")
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {svc}-config", f"  namespace: {svc}", "data:",
             f"  DB_HOST: {db}-db.{env}.internal.acme-corp.io", f"  DB_NAME: {db}", "  DB_PORT: \"5432\"",
             f"  REDIS_URL: redis://redis-master.cache.svc.cluster.local:6379/{rng.randint(0, 15)}",
             f"  HTTP_TIMEOUT: {rng.choice([5, 10, 30])}s", f"  WORKERS: \"{rng.choice([2, 4, 8])}\""]
    for _ in range(rng.randint(2, 8)):
        lines.append(f"  FEATURE_{rng.choice(NOUNS).upper()}_{rng.choice(VERBS).upper()}: \"{rng.choice(['true', 'false'])}\"")
    lines += ["  config.yaml: |", "    server:", "      port: 8080", "      shutdownGrace: 20s",
              "    tracing:", f"      sampleRate: {rng.choice(['0.01', '0.05', '0.1'])}",
              "      endpoint: otel-collector.observability.svc:4317"]
    return lines


def b64(s):
    return base64.b64encode(s.encode()).decode()


def k8s_secret(svc, env):
    db = svc.replace("-", "_")
    return ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {svc}-db", f"  namespace: {svc}",
            "  annotations:", "    reloader.stakater.com/match: \"true\"", "type: Opaque", "data:",
            f"  username: {b64(db + '_app')}", f"  host: {b64(db + '-db.' + env + '.internal.acme-corp.io')}",
            f"  port: {b64('5432')}", f"  database: {b64(db)}", "stringData:", "  sslmode: verify-full",
            f"  pool_size: \"{10 if env == 'prod' else 4}\""]


def sealed_secret(svc, rng):
    lines = ["apiVersion: bitnami.com/v1alpha1", "kind: SealedSecret", "metadata:", f"  name: {svc}-api",
             f"  namespace: {svc}", "spec:", "  encryptedData:"]
    for k in ("api_key", "webhook_signing_key", "password"):
        lines.append(f"    {k}: Ag" + base64.b64encode(rng.randbytes(rng.choice([370, 400, 430]))).decode())
    lines += ["  template:", "    metadata:", f"      name: {svc}-api", f"      namespace: {svc}", "    type: Opaque"]
    return lines


def chart_yaml(svc, version, app_version):
    return ["apiVersion: v2", f"name: {svc}", f"description: Helm chart for the {svc} service", "type: application",
            f"version: {version}", f'appVersion: "{app_version}"', "dependencies:", "  - name: common",
            '    version: "2.x.x"', "    repository: oci://registry.acme-corp.io/charts", "maintainers:",
            "  - name: platform-team", "    email: platform@acme-corp.io"]


def values_yaml(svc, tag, replicas):
    return ["replicaCount: " + str(replicas), "", "image:", f"  repository: registry.acme-corp.io/platform/{svc}",
            f'  tag: "{tag}"', "  pullPolicy: IfNotPresent", "", "imagePullSecrets:", "  - name: regcred", "",
            "serviceAccount:", "  create: true", '  name: ""', "", "service:", "  type: ClusterIP", "  port: 80", "",
            "ingress:", "  enabled: false", '  className: "nginx"', "  hosts:", f"    - host: {svc}.acme-corp.io",
            "      paths:", "        - path: /", "          pathType: Prefix", "", "postgresql:", "  enabled: false",
            '  existingSecret: ""', '  password: ""', "", "resources:", "  requests:", "    cpu: 100m",
            "    memory: 128Mi", "", "autoscaling:", "  enabled: true", "  minReplicas: 2", "  maxReplicas: 10",
            "  targetCPUUtilizationPercentage: 70"]


def chart_templates(svc):
    fn = f'{{{{ include "{svc}.fullname" . }}}}'
    lbl = f'{{{{- include "{svc}.labels" . | nindent 4 }}}}'
    return {
        "_helpers.tpl": [f'{{{{- define "{svc}.fullname" -}}}}',
                         '{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}',
                         "{{- end }}", "", f'{{{{- define "{svc}.labels" -}}}}',
                         "helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}",
                         f"app.kubernetes.io/name: {svc}", "app.kubernetes.io/managed-by: {{ .Release.Service }}",
                         "{{- end }}"],
        "deployment.yaml": ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {fn}", "  labels:",
                            f"    {lbl}", "spec:", "  {{- if not .Values.autoscaling.enabled }}",
                            "  replicas: {{ .Values.replicaCount }}", "  {{- end }}", "  template:", "    spec:",
                            "      containers:", "        - name: {{ .Chart.Name }}",
                            '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"',
                            "          env:", "            - name: DB_PASSWORD", "              valueFrom:",
                            "                secretKeyRef:",
                            f'                  name: {{{{ .Values.postgresql.existingSecret | default (printf "%s-db" (include "{svc}.fullname" .)) }}}}',
                            "                  key: password", "          resources:",
                            "            {{- toYaml .Values.resources | nindent 12 }}"],
        "service.yaml": ["apiVersion: v1", "kind: Service", "metadata:", f"  name: {fn}", "spec:",
                         "  type: {{ .Values.service.type }}", "  ports:", "    - port: {{ .Values.service.port }}",
                         "      targetPort: http"],
        "secret.yaml": ["{{- if not .Values.postgresql.existingSecret }}", "apiVersion: v1", "kind: Secret",
                        "metadata:", f"  name: {fn}-db", "type: Opaque", "data:",
                        "  password: {{ .Values.postgresql.password | b64enc | quote }}",
                        "stringData:", "  username: {{ .Values.postgresql.username | default \"app\" }}",
                        "{{- end }}"],
        "configmap.yaml": ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {fn}-config", "data:",
                           "  LOG_LEVEL: {{ .Values.logLevel | default \"info\" | quote }}",
                           "  {{- range $k, $v := .Values.extraEnv }}", "  {{ $k }}: {{ $v | quote }}", "  {{- end }}"],
        "hpa.yaml": ["{{- if .Values.autoscaling.enabled }}", "apiVersion: autoscaling/v2",
                     "kind: HorizontalPodAutoscaler", "metadata:", f"  name: {fn}", "spec:",
                     "  minReplicas: {{ .Values.autoscaling.minReplicas }}",
                     "  maxReplicas: {{ .Values.autoscaling.maxReplicas }}", "{{- end }}"],
    }


def workflow(svc, lang):
    setup = {"go": ["      - uses: actions/setup-go@v5", "        with:", '          go-version: "1.21"'],
             "python": ["      - uses: actions/setup-python@v5", "        with:", '          python-version: "3.11"'],
             "ts": ["      - uses: actions/setup-node@v4", "        with:", "          node-version: 18"],
             "js": ["      - uses: actions/setup-node@v4", "        with:", "          node-version: 18"],
             "rust": ["      - uses: dtolnay/rust-toolchain@stable"]}[lang]
    return [f"name: ci-{svc}", "on:", "  push:", "    branches: [main]", f'    paths: ["services/{svc}/**"]',
            "  pull_request:", f'    paths: ["services/{svc}/**"]', "jobs:", "  build:", "    runs-on: ubuntu-22.04",
            "    steps:", "      - uses: actions/checkout@v4"] + setup + [
            f"      - run: make -C services/{svc} lint build", "      - name: push image",
            "        if: github.ref == 'refs/heads/main'", "        env:",
            "          REGISTRY_TOKEN: ${{ secrets.REGISTRY_TOKEN }}",
            '        run: echo "$REGISTRY_TOKEN" | docker login registry.acme-corp.io -u ci --password-stdin']


# --- Lockfiles -------------------------------------------------------------------

NPM_BASE = ["react", "react-dom", "express", "lodash", "axios", "zod", "typescript", "eslint", "prettier",
            "jest", "vite", "webpack", "babel-loader", "@babel/core", "@babel/preset-env", "@types/node",
            "@types/react", "ts-node", "dotenv", "pino", "pino-pretty", "ioredis", "pg", "knex", "uuid",
            "dayjs", "date-fns", "chalk", "commander", "yargs", "debug", "ms", "semver", "glob", "minimatch",
            "rimraf", "mkdirp", "tslib", "rxjs", "graphql", "@apollo/client", "next", "postcss",
            "tailwindcss", "autoprefixer", "esbuild", "rollup", "undici", "ws", "cookie", "qs", "body-parser",
            "cors", "helmet", "jsonwebtoken", "bcryptjs", "nanoid", "classnames", "immer", "redux",
            "@reduxjs/toolkit", "react-router", "react-router-dom", "msw", "supertest", "nock", "sinon"]
NPM_SYL = ["ansi", "array", "buffer", "call", "chain", "char", "color", "core", "deep", "define", "each",
           "emit", "escape", "event", "fast", "fill", "flat", "func", "get", "has", "hash", "inherit", "is",
           "json", "kind", "map", "merge", "mime", "node", "object", "parse", "path", "picker", "proto",
           "queue", "read", "regex", "safe", "set", "source", "split", "stream", "string", "strip", "symbol",
           "to", "type", "util", "which", "wrap", "yaml"]
CRATES = ["serde", "serde_json", "tokio", "tokio-util", "hyper", "axum", "tower", "tower-http", "tracing",
          "tracing-subscriber", "anyhow", "thiserror", "bytes", "futures", "futures-util", "pin-project",
          "http", "http-body", "uuid", "chrono", "regex", "once_cell", "rand", "rand_core", "sqlx",
          "reqwest", "rustls", "ring", "base64", "clap", "metrics", "parking_lot", "dashmap", "itoa",
          "ryu", "memchr", "libc", "cfg-if", "log", "smallvec", "hashbrown", "indexmap", "syn", "quote",
          "proc-macro2", "unicode-ident", "mio", "socket2", "slab", "num-traits", "time", "url", "percent-encoding"]
GOMODS = ["github.com/google/uuid", "go.uber.org/zap", "go.uber.org/multierr", "github.com/jackc/pgx/v5",
          "github.com/redis/go-redis/v9", "github.com/prometheus/client_golang", "github.com/stretchr/testify",
          "golang.org/x/sync", "golang.org/x/net", "golang.org/x/sys", "golang.org/x/text", "google.golang.org/grpc",
          "google.golang.org/protobuf", "github.com/spf13/cobra", "github.com/spf13/viper", "github.com/go-chi/chi/v5",
          "github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-sdk-go-v2/config", "github.com/cespare/xxhash/v2",
          "github.com/davecgh/go-spew", "github.com/pmezard/go-difflib", "gopkg.in/yaml.v3", "github.com/golang-jwt/jwt/v5",
          "go.opentelemetry.io/otel", "go.opentelemetry.io/otel/trace", "github.com/segmentio/kafka-go"]


class Lock:
    """A lockfile's dependency set; rewritten whole on every change."""

    def __init__(self, rng, kind, svc, size):
        self.rng, self.kind, self.svc = rng, kind, svc
        if kind == "npm":
            names = list(NPM_BASE)
            while len(names) < size:
                a, b = rng.choice(NPM_SYL), rng.choice(NPM_SYL)
                name = f"{a}-{b}" if rng.random() < 0.8 else f"@{a}/{b}"
                if name not in names:
                    names.append(name)
        elif kind == "cargo":
            names = list(CRATES)
            while len(names) < size:
                name = f"{rng.choice(NPM_SYL)}-{rng.choice(NPM_SYL)}"
                if name not in names:
                    names.append(name)
        else:
            names = list(GOMODS)
            while len(names) < size:
                name = f"github.com/{rng.choice(NPM_SYL)}{rng.choice(NPM_SYL)}/{rng.choice(NPM_SYL)}"
                if name not in names:
                    names.append(name)
        self.pkgs = [[n, [rng.randint(0, 9), rng.randint(0, 30), rng.randint(0, 40)]] for n in names[:size]]

    def bump(self):
        rng = self.rng
        for p in self.pkgs:
            if rng.random() < 0.08:
                v = p[1]
                if rng.random() < 0.1:
                    p[1] = [v[0], v[1] + 1, 0]
                else:
                    p[1] = [v[0], v[1], v[2] + 1]
        if rng.random() < 0.3:
            i = rng.randrange(len(self.pkgs))
            del self.pkgs[i]

    def render(self):
        out = []
        if self.kind == "npm":
            out += ["{", f'  "name": "@acme/{self.svc}",', '  "version": "0.0.0",', '  "lockfileVersion": 3,',
                    '  "requires": true,', '  "packages": {', '    "": {', f'      "name": "@acme/{self.svc}",',
                    '      "version": "0.0.0"', "    },"]
            for k, (name, v) in enumerate(self.pkgs):
                ver = ".".join(map(str, v))
                base = name.split("/")[-1]
                integ = base64.b64encode(hashlib.sha512(f"{name}@{ver}".encode()).digest()).decode()
                out += [f'    "node_modules/{name}": {{', f'      "version": "{ver}",',
                        f'      "resolved": "https://registry.npmjs.org/{name}/-/{base}-{ver}.tgz",',
                        f'      "integrity": "sha512-{integ}",']
                if k % 3 == 0:
                    out += ['      "dev": true,']
                if k % 4 == 1:
                    dep = self.pkgs[(k * 7) % len(self.pkgs)][0]
                    out += ['      "dependencies": {', f'        "{dep}": "^{v[0]}.0.0"', "      },"]
                out += [f'      "license": "{["MIT", "ISC", "Apache-2.0", "BSD-3-Clause"][k % 4]}"',
                        "    }" + ("," if k + 1 < len(self.pkgs) else "")]
            out += ["  }", "}"]
        elif self.kind == "cargo":
            out += ["# This file is automatically @generated by Cargo.", "# It is not intended for manual editing.",
                    "version = 3", ""]
            for name, v in sorted(self.pkgs):
                ver = ".".join(map(str, v))
                out += ["[[package]]", f'name = "{name}"', f'version = "{ver}"',
                        'source = "registry+https://github.com/rust-lang/crates.io-index"',
                        f'checksum = "{hashlib.sha256(f"{name}-{ver}".encode()).hexdigest()}"', ""]
        else:
            for name, v in sorted(self.pkgs):
                ver = "v" + ".".join(map(str, v))
                h1 = base64.b64encode(hashlib.sha256(f"{name}@{ver}".encode()).digest()).decode()
                h2 = base64.b64encode(hashlib.sha256(f"{name}@{ver}/go.mod".encode()).digest()).decode()
                out += [f"{name} {ver} h1:{h1}", f"{name} {ver}/go.mod h1:{h2}"]
        return out


def png_bytes(rng, size):
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    w, h = rng.choice([(512, 512), (1200, 630), (256, 256), (1920, 1080)])
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rng.randbytes(size)) + chunk(b"IEND", b"")


# --- Planted credentials ----------------------------------------------------------

def base62(n, width):
    digits = []
    while n > 0:
        digits.append(BASE62[n % 62])
        n //= 62
    return "".join(reversed(digits)).rjust(width, "0")


def clean_random(rng, alphabet, n):
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        if not any(b in s.lower() for b in BANNED):
            return s


def github_pat(rng):
    body = clean_random(rng, BASE62, 30)
    return "ghp_" + body + base62(zlib.crc32(body.encode()), 6)


def aws_pair(rng):
    return "AKIA" + clean_random(rng, BASE32, 16), clean_random(rng, B64CHARS, 40)


def slack_bot(rng):
    return (f"xoxb-{rng.randint(10**10, 10**12 - 1)}-{rng.randint(10**12, 10**13 - 1)}-"
            + clean_random(rng, ALNUM, 24))


def stripe_live(rng):
    return "sk_live_" + clean_random(rng, ALNUM, rng.choice([24, 34, 99]))


def password(rng, n=22):
    return clean_random(rng, ALNUM, n)


SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def probable_prime(n, rng):
    if any(n % p == 0 for p in SMALL_PRIMES):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(24):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def rsa_pem(rng, bits=2048):
    """A structurally valid PKCS#1 RSA private key, from the seeded generator."""
    e = 65537
    while True:
        p, q = (next(c for c in iter(lambda: rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1, None)
                     if probable_prime(c, rng)) for _ in range(2))
        if p != q and math.gcd(e, (p - 1) * (q - 1)) == 1:
            break
    if p < q:
        p, q = q, p
    d = pow(e, -1, (p - 1) * (q - 1))

    def der_len(n):
        if n < 128:
            return bytes([n])
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(b)]) + b

    def der_int(x):
        b = x.to_bytes(x.bit_length() // 8 + 1, "big")
        return b"\x02" + der_len(len(b)) + b

    body = b"".join(der_int(x) for x in (0, p * q, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)))
    der = b"\x30" + der_len(len(body)) + body
    text = base64.b64encode(der).decode()
    return (["-----BEGIN RSA PRIVATE KEY-----"] + [text[i:i + 64] for i in range(0, len(text), 64)]
            + ["-----END RSA PRIVATE KEY-----"])


# --- The repository ---------------------------------------------------------------

class TextFile:
    __slots__ = ("lines", "mode")

    def __init__(self, lines, mode="100644"):
        self.lines, self.mode = lines, mode

    def data(self):
        return ("\n".join(self.lines) + "\n").encode()


class BinFile:
    __slots__ = ("blob", "mode")

    def __init__(self, blob):
        self.blob, self.mode = blob, "100644"

    def data(self):
        return self.blob


class History:
    def __init__(self, args):
        self.rng = Random(args.seed)
        self.gen = Gen(self.rng)
        self.target = args.commits
        self.count = 0
        self.mark = 0
        self.time = EPOCH
        self.trees = {}      # branch -> {path: file}
        self.tips = {}       # branch -> mark
        self.frozen = set()  # paths holding a live planted secret: no churn touches them
        self.planted = []
        self.used_secret_paths = set()
        self.stats = {"merges": 0, "tags": 0}
        self.proc = subprocess.Popen(
            ["git", "-C", args.repo, "fast-import", "--quiet", f"--export-marks={args.marks}"],
            stdin=subprocess.PIPE)
        self.out = self.proc.stdin

    # -- low level --
    def next_time(self):
        self.time += self.rng.randint(240, 5 * 3600)
        return self.time

    def author(self, bot_ok=True):
        while True:
            a = self.rng.choices(AUTHORS, weights=AUTHOR_WEIGHTS)[0]
            if bot_ok or "[bot]" not in a[0]:
                return a

    def commit(self, branch, changes, message, author=None, merge=None, parent="tip"):
        """changes: list of (path, file-or-None). Returns the commit's mark."""
        author = author or self.author(bot_ok=False)
        self.mark += 1
        mark = self.mark
        ts = self.next_time()
        name, email, tz = author
        buf = bytearray()
        buf += f"commit refs/heads/{branch}\nmark :{mark}\n".encode()
        buf += f"author {name} <{email}> {ts} {tz}\ncommitter {name} <{email}> {ts} {tz}\n".encode()
        msg = message.encode()
        buf += b"data %d\n" % len(msg) + msg + b"\n"
        base = self.tips.get(branch) if parent == "tip" else parent
        if base is not None:
            buf += f"from :{base}\n".encode()
        if merge is not None:
            buf += f"merge :{merge}\n".encode()
        tree = self.trees.setdefault(branch, {})
        for path, f in changes:
            if f is None:
                buf += f"D {path}\n".encode()
                tree.pop(path, None)
            else:
                data = f.data()
                buf += f"M {f.mode} inline {path}\ndata {len(data)}\n".encode() + data + b"\n"
                tree[path] = f
        buf += b"\n"
        self.out.write(buf)
        self.tips[branch] = mark
        self.count += 1
        return mark

    def fork(self, new, base="main"):
        self.trees[new] = dict(self.trees[base])
        self.tips[new] = self.tips[base]

    def tag(self, name, mark, message):
        name_, email, tz = self.author(bot_ok=False)
        msg = message.encode()
        self.out.write(f"tag {name}\nfrom :{mark}\ntagger {name_} <{email}> {self.time + 60} {tz}\n".encode()
                       + b"data %d\n" % len(msg) + msg + b"\n")
        self.stats["tags"] += 1

    def lightweight_tag(self, name, mark):
        self.out.write(f"reset refs/tags/{name}\nfrom :{mark}\n\n".encode())
        self.stats["tags"] += 1

    def delete_branch(self, branch):
        self.out.write(f"reset refs/heads/{branch}\n\n".encode())
        self.trees.pop(branch, None)
        self.tips.pop(branch, None)

    def finish(self):
        self.out.write(b"done\n")
        self.out.close()
        if self.proc.wait() != 0:
            sys.exit("git fast-import failed")


def build(args):
    h = History(args)
    rng, gen = h.rng, h.gen
    files = {}  # path -> category (main tree), insertion-ordered
    weight = {}  # path -> how often it is picked
    svc_lang = dict(SERVICES)
    versions = {svc: [1, rng.randint(0, 9), rng.randint(0, 30)] for svc, _ in SERVICES}
    chart_versions = {svc: [0, rng.randint(1, 9), 0] for svc, _ in SERVICES}
    locks = {}
    uniq = [0]

    def add(path, f, cat, changes):
        files[path] = cat
        weight[path] = min(rng.paretovariate(1.1), 60.0)
        changes.append((path, f))

    def src_path(svc, lang):
        uniq[0] += 1
        n, v = rng.choice(NOUNS), rng.choice(VERBS)
        base = f"services/{svc}"
        if lang == "go":
            return f"{base}/internal/{n}/{v}_{n}{'_test' if rng.random() < 0.2 else ''}_{uniq[0]}.go"
        if lang == "python":
            return f"{base}/{svc.replace('-', '_')}/{n}/{v}_{n}_{uniq[0]}.py"
        if lang == "ts":
            return f"{base}/src/{rng.choice(['api', 'components', 'hooks', 'lib', 'pages'])}/{v}{cap(n)}{uniq[0]}.{rng.choice(['ts', 'ts', 'tsx'])}"
        if lang == "js":
            return f"{base}/src/{n}/{v}-{n}-{uniq[0]}.js"
        return f"{base}/src/{n}_{v}_{uniq[0]}.rs"

    # ---- initial tree ----
    changes = []
    root = {
        "README.md": gen.doc("Acme platform monorepo", "platform"),
        "CODEOWNERS": ["*                 @acme-corp/platform"] + [f"/services/{s}/   @acme-corp/{s}-team" for s, _ in SERVICES],
        ".gitignore": ["node_modules/", "target/", "dist/", "__pycache__/", "*.pyc", ".env", ".env.*", "!.env.sample", "coverage/"],
        "Makefile": [".PHONY: all lint build", "all: lint build", "", "lint:", "\t@./scripts/lint.sh", "", "build:",
                     "\t@for s in services/*; do $(MAKE) -C $$s build || exit 1; done"],
        "docker-compose.yml": ["services:", "  postgres:", "    image: postgres:15", "    environment:",
                               "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}",
                               "    ports:", '      - "5432:5432"', "  redis:", "    image: redis:7", "    ports:", '      - "6379:6379"'],
    }
    for p, lines in root.items():
        add(p, TextFile(lines), "doc" if p.endswith(".md") else "static", changes)
    for svc, lang in SERVICES:
        for _ in range(rng.randint(50, 85)):
            p = src_path(svc, lang)
            add(p, TextFile(gen.source(lang, svc, p)), "src", changes)
        add(f"services/{svc}/README.md", TextFile(gen.doc(f"{svc} service", svc)), "doc", changes)
        add(f"services/{svc}/Dockerfile", TextFile([f"FROM registry.acme-corp.io/base/{lang}:latest AS build", "WORKDIR /src", "COPY . .",
                                                     "RUN make build", "FROM gcr.io/distroless/base-debian12", "COPY --from=build /src/bin/app /app",
                                                     "USER 10001", 'ENTRYPOINT ["/app"]']), "static", changes)
        if lang in ("ts", "js"):
            locks[svc] = (f"services/{svc}/package-lock.json", Lock(rng, "npm", svc, rng.randint(500, 900)))
            add(f"services/{svc}/package.json", TextFile(['{', f'  "name": "@acme/{svc}",', '  "private": true,',
                                                          '  "scripts": { "build": "tsc -p .", "lint": "eslint ." }', '}']), "static", changes)
        elif lang == "rust":
            locks[svc] = (f"services/{svc}/Cargo.lock", Lock(rng, "cargo", svc, rng.randint(180, 300)))
            add(f"services/{svc}/Cargo.toml", TextFile(["[package]", f'name = "{svc}"', 'version = "0.1.0"', 'edition = "2021"', "",
                                                        "[dependencies]", 'tokio = { version = "1", features = ["full"] }', 'serde = "1"']), "static", changes)
        elif lang == "go":
            locks[svc] = (f"services/{svc}/go.sum", Lock(rng, "go", svc, rng.randint(60, 140)))
            add(f"services/{svc}/go.mod", TextFile([f"module github.com/acme-corp/platform/services/{svc}", "", "go 1.21"]), "static", changes)
        else:
            add(f"services/{svc}/requirements.txt", TextFile([f"{n}=={rng.randint(1, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
                                                              for n in ("django", "celery", "redis", "psycopg2-binary", "requests", "boto3", "pydantic", "structlog")]), "static", changes)
        if svc in locks:
            path, lock = locks[svc]
            add(path, TextFile(lock.render()), "lock", changes)
        tag = ".".join(map(str, versions[svc]))
        for env in ENVS:
            d = f"k8s/{env}/{svc}"
            add(f"{d}/deployment.yaml", TextFile(deployment(svc, env, tag, {"dev": 1, "staging": 2, "prod": 4}[env], 100, 256, [])), "deploy", changes)
            add(f"{d}/service.yaml", TextFile(k8s_service(svc)), "static", changes)
            add(f"{d}/configmap.yaml", TextFile(configmap(svc, env, rng)), "config", changes)
            add(f"{d}/secret.yaml", TextFile(k8s_secret(svc, env)), "static", changes)
            if env == "prod":
                add(f"{d}/sealedsecret.yaml", TextFile(sealed_secret(svc, rng)), "sealed", changes)
        c = f"charts/{svc}"
        add(f"{c}/Chart.yaml", TextFile(chart_yaml(svc, ".".join(map(str, chart_versions[svc])), tag)), "chart", changes)
        add(f"{c}/values.yaml", TextFile(values_yaml(svc, tag, 2)), "static", changes)
        for name, lines in chart_templates(svc).items():
            add(f"{c}/templates/{name}", TextFile(lines), "static", changes)
        add(f".github/workflows/ci-{svc}.yml", TextFile(workflow(svc, lang)), "workflow", changes)
    for i in range(24):
        add(f"docs/{rng.choice(NOUNS)}-{rng.choice(VERBS)}-{i}.md", TextFile(gen.doc(f"{cap(rng.choice(VERBS))} {rng.choice(NOUNS)}s", "platform")), "doc", changes)
    for i in range(12):
        add(f"scripts/{rng.choice(VERBS)}-{rng.choice(NOUNS)}s-{i}.sh",
            TextFile(["#!/usr/bin/env bash", "set -euo pipefail", 'PGPASSWORD="${PGPASSWORD:?}"',
                      f'psql "host=$DB_HOST user={rng.choice(NOUNS)}_ops dbname={rng.choice(NOUNS)}s" -c "select count(*) from {rng.choice(NOUNS)}s"'], "100755"), "script", changes)
    for i in range(args.binaries):
        where = rng.choice(["services/web/public/img", "services/admin-ui/public/img", "docs/img", "assets/brand"])
        add(f"{where}/{rng.choice(NOUNS)}-{i}.png", BinFile(png_bytes(rng, rng.randint(30_000, 600_000))), "bin", changes)
    h.commit("main", changes, "Initial import of the platform monorepo", author=AUTHORS[0])

    # ---- history schedule ----
    n = args.commits
    n_features = max(2, n // 400)
    feature_starts = sorted(rng.sample(range(n // 20, n - n // 20), n_features))
    stale_at = sorted(rng.sample(range(n // 10, n - n // 10), 2))
    tag_only_at = rng.randrange(n // 3, 2 * n // 3)
    release_tags = sorted(rng.sample(range(n // 8, n - 10), 3))

    kinds = (["github-pat"] * 7 + ["aws"] * 5 + ["slack-bot"] * 5 + ["stripe"] * 5 + ["rsa-private-key"] * 3
             + ["postgres-url"] * 6 + ["k8s-secret-password"] * 4)
    rng.shuffle(kinds)
    # Three plants go to special places: a merged feature branch, a branch never merged, a tag.
    special = {"feature": kinds.pop(), "stale": kinds.pop(), "tag": kinds.pop()}
    main_slots = sorted(rng.sample(range(n // 30, n - n // 40 - 20), len(kinds)))
    plant_at = dict(zip(main_slots, kinds))
    keep_at_head = set(rng.sample(main_slots, 8))
    pending_removals = []  # (due_count, plant record)

    feature = None  # dict(name, svc, left, plant)
    feature_idx = 0
    secret_feature = rng.randrange(n_features)

    def pick(cat=None, svc_ok=None, avoid_svc=None):
        pool = [p for p in files if (cat is None or files[p] == cat) and p not in h.frozen
                and (avoid_svc is None or not p.startswith(f"services/{avoid_svc}/"))
                and (svc_ok is None or p.startswith(f"services/{svc_ok}/"))]
        if not pool:
            return None
        return rng.choices(pool, weights=[weight[p] for p in pool])[0]

    def lang_of(path):
        return svc_lang.get(path.split("/")[1], "go") if path.startswith("services/") else "go"

    def svc_of(path):
        parts = path.split("/")
        return parts[1] if parts[0] in ("services", "charts") else (parts[2] if parts[0] == "k8s" else "platform")

    def churn(branch, only_svc=None, avoid_svc=None):
        """One ordinary commit on branch."""
        tree = h.trees[branch]
        r = rng.random()
        changes = []
        if only_svc:
            r = 0.0  # feature branches only edit their service's code
        if r < 0.53:
            k = rng.choice([1, 1, 2, 2, 3, 4, 6])
            svc = None
            for _ in range(k):
                p = pick("src", svc_ok=only_svc or svc, avoid_svc=avoid_svc)
                if p is None or p not in tree or any(p == c[0] for c in changes):
                    continue
                svc = svc_of(p)
                changes.append((p, TextFile(gen.edit_source(lang_of(p), tree[p].lines, svc), tree[p].mode)))
            if not changes:
                return churn(branch, only_svc, avoid_svc) if not only_svc else None
            s = svc_of(changes[0][0])
            msg = gen.fill(rng.choice(["@s@: @v@ @n@s on retry", "@s@: handle empty @n@ in @v@", "@s@: @v@ @n@ before @w@ lookup",
                                       "fix(@s@): @n@ @v@ race", "refactor(@s@): split @n@ @v@", "@s@: log @n@ ids on @v@",
                                       "feat(@s@): @v@ @n@s per tenant", "@s@: bump @n@ timeout"]), s)
        elif r < 0.68:
            svc = rng.choice([s for s, _ in SERVICES if s != avoid_svc])
            v = versions[svc]
            v[2] += 1
            if rng.random() < 0.05:
                v[1], v[2] = v[1] + 1, 0
            tag = ".".join(map(str, v))
            envs = rng.choice([["dev"], ["dev"], ["dev", "staging"], ["staging", "prod"], ["prod"]])
            for env in envs:
                p = f"k8s/{env}/{svc}/deployment.yaml"
                if p in h.frozen or p not in tree:
                    continue
                lines = [re.sub(r"(image: .*:).*", r"\g<1>" + tag, l) for l in tree[p].lines]
                if rng.random() < 0.15:
                    i = next(i for i, l in enumerate(lines) if l.strip().startswith("replicas:"))
                    lines[i] = f"  replicas: {rng.randint(1, 8)}"
                if rng.random() < 0.1:
                    i = next(i for i, l in enumerate(lines) if l.strip() == "resources:")
                    lines[i:i] = [f"            - name: {rng.choice(NOUNS).upper()}_{rng.choice(VERBS).upper()}_ENABLED", '              value: "true"']
                changes.append((p, TextFile(lines)))
            msg = f"deploy({','.join(envs)}): {svc} {tag}"
            if not changes:
                return None
        elif r < 0.75:
            svc = rng.choice([s for s, _ in SERVICES if s != avoid_svc])
            cv = chart_versions[svc]
            cv[2] += 1
            tag = ".".join(map(str, versions[svc]))
            p = f"charts/{svc}/Chart.yaml"
            changes.append((p, TextFile(chart_yaml(svc, ".".join(map(str, cv)), tag))))
            vp = f"charts/{svc}/values.yaml"
            if vp not in h.frozen:
                changes.append((vp, TextFile([re.sub(r'(  tag: ).*', f'\\g<1>"{tag}"', l) for l in tree[vp].lines])))
            msg = f"chart({svc}): release {'.'.join(map(str, cv))}"
        elif r < 0.80:
            p = pick("config", avoid_svc=avoid_svc)
            if p is None:
                return None
            lines = list(tree[p].lines)
            i = rng.randrange(6, len(lines))
            if lines[i].startswith("  FEATURE_") and rng.random() < 0.5:
                lines[i] = lines[i].replace("true", "false") if "true" in lines[i] else lines[i].replace("false", "true")
            else:
                lines.insert(7, f"  FEATURE_{rng.choice(NOUNS).upper()}_{rng.choice(VERBS).upper()}: \"true\"")
            changes.append((p, TextFile(lines)))
            msg = f"config({p.split('/')[1]}): toggle flags for {p.split('/')[2]}"
        elif r < 0.85:
            p = pick("doc", avoid_svc=avoid_svc)
            if p is None:
                return None
            changes.append((p, TextFile(gen.edit_doc(tree[p].lines, svc_of(p)), tree[p].mode)))
            msg = f"docs: update {p.rsplit('/', 1)[-1]}"
        elif r < 0.915:
            svc, lang = rng.choice([x for x in SERVICES if x[0] != avoid_svc])
            for _ in range(rng.choice([1, 1, 2, 3])):
                p = src_path(svc, lang)
                add(p, TextFile(gen.source(lang, svc, p)), "src", changes)
            msg = gen.fill(f"feat({svc}): add @n@ @v@ handler", svc)
        elif r < 0.93:
            p = pick("src", avoid_svc=avoid_svc)
            if p is None:
                return None
            svc = svc_of(p)
            if rng.random() < 0.5:
                new = src_path(svc, svc_lang[svc])
                add(new, tree[p], "src", changes)
                msg = f"refactor({svc}): move {p.rsplit('/', 1)[-1]}"
            else:
                msg = f"{svc}: remove unused {p.rsplit('/', 1)[-1]}"
            changes.append((p, None))
            del files[p]
        elif r < 0.96:
            svc = rng.choice([s for s in locks if s != avoid_svc])
            path, lock = locks[svc]
            if path in h.frozen:
                return None
            lock.bump()
            changes.append((path, TextFile(lock.render())))
            msg = f"chore(deps): update {svc} dependencies"
            return h.commit(branch, changes, msg, author=AUTHORS[-1])
        elif r < 0.985:
            p = pick("bin")
            if p is None:
                return None
            if rng.random() < 0.3:
                uniq[0] += 1
                new = f"{p.rsplit('/', 1)[0]}/{rng.choice(NOUNS)}-{rng.choice(VERBS)}-{uniq[0]}.png"
                add(new, BinFile(png_bytes(rng, rng.randint(30_000, 600_000))), "bin", changes)
                msg = f"assets: add {new.rsplit('/', 1)[-1]}"
            else:
                old = tree[p].blob
                changes.append((p, BinFile(png_bytes(rng, max(10_000, len(old) + rng.randint(-30_000, 30_000))))))
                msg = f"assets: refresh {p.rsplit('/', 1)[-1]}"
        else:
            p = pick("workflow", avoid_svc=avoid_svc)
            if p is None:
                return None
            lines = [l.replace("node-version: 18", "node-version: 20").replace('"1.21"', '"1.22"').replace('"3.11"', '"3.12"')
                     for l in tree[p].lines]
            if lines == tree[p].lines:
                lines = lines + ["      - run: make -C services/" + p.split("ci-")[1][:-4] + " test"]
            changes.append((p, TextFile(lines)))
            msg = f"ci: bump toolchain in {p.rsplit('/', 1)[-1]}"
        return h.commit(branch, changes, msg)

    # ---- planting ----
    def plant(branch, kind, svc_ok=None, avoid_svc=None, ref="main", reach="main"):
        """Commit a credential on branch; returns the plant record (removal info included)."""
        tree = h.trees[branch]
        record_entries = []  # (kind, value, line offset within inserted lines)
        svc = svc_ok or rng.choice([s for s, _ in SERVICES if s != avoid_svc])
        lang = svc_lang[svc]
        env = rng.choice(ENVS)
        u = svc.replace("-", "_")
        new_file = True
        if kind == "github-pat":
            tok = github_pat(rng)
            style = rng.randrange(4)
            if style == 0:
                path, lines, at = f"services/{svc}/.npmrc", ["@acme:registry=https://npm.pkg.github.com", f"//npm.pkg.github.com/:_authToken={tok}", "always-auth=true"], 1
            elif style == 1:
                path, lines, at = f"scripts/mirror-{svc}-{len(h.planted)}.sh", ["#!/usr/bin/env bash", "set -euo pipefail", "", f'GH_PAT="{tok}"',
                                                                                 'git push --mirror "https://x-access-token:${GH_PAT}@github.com/acme-corp/platform.git"'], 3
            else:
                new_file = False
                ins = {"go": f'const githubToken = "{tok}"', "python": f'GITHUB_TOKEN = "{tok}"',
                       "ts": f"const GITHUB_TOKEN = '{tok}';", "js": f"const GITHUB_TOKEN = '{tok}';",
                       "rust": f'const GITHUB_TOKEN: &str = "{tok}";'}[lang]
                lines, at = [ins], 0
            record_entries.append(("github-pat", tok, at))
        elif kind == "aws":
            kid, sec = aws_pair(rng)
            style = rng.randrange(3)
            if style == 0:
                path, lines, at = f"deploy/aws/{svc}-{env}.credentials", ["[default]", f"aws_access_key_id = {kid}", f"aws_secret_access_key = {sec}", "region = eu-west-1"], 1
            elif style == 1:
                path, lines, at = f"services/{svc}/.env.{env}", [f"APP_ENV={env}", "AWS_REGION=us-east-1", f"aws_access_key_id = {kid}", f"aws_secret_access_key = {sec}", f"S3_BUCKET=acme-{svc}-{env}"], 2
            else:
                path, lines, at = f"terraform/{env}/{svc}/provider.tf.backup", ['provider "aws" {', '  region                  = "eu-central-1"', f'  access_key              = "{kid}"',
                                                                               f'  aws_secret_access_key = "{sec}"', "}"], 2
            record_entries += [("aws-access-key-id", kid, at), ("aws-secret-access-key", sec, at + 1)]
        elif kind == "slack-bot":
            tok = slack_bot(rng)
            if rng.random() < 0.5:
                path, lines, at = f"services/{svc}/config/alerts-{env}.yaml", ["alerts:", "  slack:", f"    channel: '#{svc}-alerts'", f"    bot_token: {tok}", "    mention: '@oncall'"], 3
            else:
                new_file = False
                lines = [{"go": f'var slackBotToken = "{tok}"', "python": f'SLACK_BOT_TOKEN = "{tok}"',
                          "ts": f"const slackToken = '{tok}';", "js": f"const slackToken = '{tok}';",
                          "rust": f'static SLACK_TOKEN: &str = "{tok}";'}[lang]]
                at = 0
            record_entries.append(("slack-bot-token", tok, at))
        elif kind == "stripe":
            key = stripe_live(rng)
            if rng.random() < 0.4:
                path, lines, at = f"services/{svc}/.env.production", [f"STRIPE_SECRET_KEY={key}", f"STRIPE_ACCOUNT=acct_{clean_random(rng, ALNUM, 16)}", "STRIPE_API_VERSION=2023-10-16"], 0
            else:
                new_file = False
                lines = [{"go": f'stripe.Key = "{key}"', "python": f'stripe.api_key = "{key}"',
                          "ts": f"const stripe = new Stripe('{key}', {{ apiVersion: '2023-10-16' }});",
                          "js": f"const stripe = require('stripe')('{key}');",
                          "rust": f'let client = stripe::Client::new("{key}");'}[lang]]
                at = 0
            record_entries.append(("stripe-live-key", key, at))
        elif kind == "rsa-private-key":
            pem = rsa_pem(rng)
            style = rng.randrange(3)
            if style == 0:
                path, lines, at = f"deploy/certs/{svc}-{env}-jwt-signing.pem", pem, 0
            elif style == 1:
                path, lines, at = f"services/{svc}/config/service-account-{env}.key", pem, 0
            else:
                path = f"k8s/{env}/{svc}/tls-key.yaml"
                lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {svc}-tls", f"  namespace: {svc}",
                         "type: kubernetes.io/tls", "stringData:", "  tls.key: |"] + ["    " + l for l in pem]
                at = 8
            record_entries.append(("rsa-private-key", pem[0], at))
        elif kind == "postgres-url":
            user, pw = f"{u}_app", password(rng)
            host = f"{u}-db.{env}.internal.acme-corp.io"
            url = f"postgres://{user}:{pw}@{host}:5432/{u}"
            style = rng.randrange(3)
            if style == 0:
                path, lines, at = f"services/{svc}/.env.{env}.local", ["LOG_LEVEL=debug", f"DATABASE_URL={url}", "REDIS_URL=redis://localhost:6379/0"], 1
            elif style == 1:
                path, lines, at = f"k8s/{env}/{svc}/migrate-job.yaml", ["apiVersion: batch/v1", "kind: Job", "metadata:", f"  name: {svc}-migrate",
                                                                      "spec:", "  template:", "    spec:", "      containers:", "        - name: migrate",
                                                                      f"          image: registry.acme-corp.io/platform/{svc}-migrate:latest",
                                                                      "          env:", "            - name: DATABASE_URL", f"              value: {url}",
                                                                      "      restartPolicy: Never"], 12
            else:
                new_file = False
                lines = [{"go": f'dsn := "{url}"', "python": f'SQLALCHEMY_DATABASE_URI = "{url}"',
                          "ts": f"const databaseUrl = '{url}';", "js": f"const databaseUrl = '{url}';",
                          "rust": f'let dsn = "{url}";'}[lang]]
                at = 0
            record_entries.append(("postgres-url", url, at))
        else:  # k8s-secret-password
            pw = password(rng, rng.choice([18, 24, 32]))
            path = f"k8s/{env}/{svc}/{rng.choice(['db', 'broker', 'smtp', 'ldap'])}-credentials.yaml"
            lines = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {svc}-{path.rsplit('/', 1)[-1][:-5]}", f"  namespace: {svc}",
                     "type: Opaque", "stringData:", f"  username: {u}_svc", f"  password: {pw}"]
            at = 8
            record_entries.append(("k8s-secret-password", pw, at))

        if new_file:
            if path in tree or path in h.used_secret_paths:
                d, base = path.rsplit("/", 1)
                path = f"{d}/{rng.choice(NOUNS)}-{len(h.planted)}/{base}"
            old = None
            start = 0
            f = TextFile(lines)
        else:
            # Insert the line after the imports of an existing source file of svc.
            cands = [p for p in files if files[p] == "src" and p.startswith(f"services/{svc}/") and p not in h.frozen
                     and p not in h.used_secret_paths and p in tree]
            path = rng.choice(cands)
            old = tree[path]
            start = next((i + 1 for i, l in enumerate(old.lines) if i > 2 and l == ""), 3)
            f = TextFile(old.lines[:start] + lines + old.lines[start:], old.mode)
        msg = gen.fill(rng.choice(["@s@: wire up @n@ client", "@s@: quick fix for @n@ sync", "wip: @s@ @n@ integration",
                                   "@s@: add @n@ job config", "hotfix(@s@): @n@ @v@ in @i@s"]), svc)
        mark = h.commit(branch, [(path, f)], msg)
        h.frozen.add(path)
        h.used_secret_paths.add(path)
        rec = {"path": path, "mark": mark, "old": old, "new_file": new_file, "start": start, "n": len(lines), "ref": ref, "entries": []}
        for kind_, value, off in record_entries:
            entry = {"kind": kind_, "path": path, "line": start + off + 1, "secret": value, "mark": mark, "ref": ref, "reach": reach,
                     "removed_mark": None}
            rec["entries"].append(entry)
            h.planted.append(entry)
        return rec

    def remove(branch, rec):
        tree = h.trees[branch]
        path = rec["path"]
        svc = svc_of(path)
        if rec["new_file"]:
            change = (path, None)
            if path in files:
                del files[path]
            msg = f"{svc}: drop {path.rsplit('/', 1)[-1]} from the repo"
        else:
            cur = tree[path]
            lang = lang_of(path)
            env_line = {"go": '\t_ = os.Getenv("CREDENTIALS_FILE")', "python": 'CREDENTIALS_FILE = os.environ["CREDENTIALS_FILE"]',
                        "ts": "const credentialsFile = process.env.CREDENTIALS_FILE;", "js": "const credentialsFile = process.env.CREDENTIALS_FILE;",
                        "rust": 'const CREDENTIALS_ENV: &str = "CREDENTIALS_FILE";'}[lang]
            lines = cur.lines[:rec["start"]] + [env_line] + cur.lines[rec["start"] + rec["n"]:]
            change = (path, TextFile(lines, cur.mode))
            msg = f"{svc}: read credentials from the environment"
        mark = h.commit(branch, [change], msg)
        h.frozen.discard(path)
        for e in rec["entries"]:
            e["removed_mark"] = mark

    # ---- main loop ----
    step = 0
    tag_names = iter(["v1.0.0", "v1.4.0", "v2.0.0"])
    while h.count < n:
        step += 1
        # Feature branch lifecycle.
        if feature is None and feature_idx < len(feature_starts) and step >= feature_starts[feature_idx]:
            svc = rng.choice([s for s, _ in SERVICES])
            name = f"feature/{svc}-{rng.choice(NOUNS)}-{rng.choice(VERBS)}"
            h.fork(name)
            feature = {"name": name, "svc": svc, "left": rng.randint(4, 11), "done": 0, "touched": set(),
                       "secret": feature_idx == secret_feature, "rec": None}
            feature_idx += 1
        if feature is not None and rng.random() < 0.5:
            b = feature["name"]
            before = dict(h.trees[b])
            if feature["secret"] and feature["done"] == 1:
                feature["rec"] = plant(b, special["feature"], svc_ok=feature["svc"], ref=b, reach="merged branch")
            elif feature["secret"] and feature["done"] == 3 and feature["rec"]:
                remove(b, feature["rec"])
            elif feature["left"] == 0:
                # Merge: the feature's versions of the paths it touched, main's for the rest.
                ft = h.trees[b]
                mt = h.trees["main"]
                changes = [(p, ft.get(p)) for p in sorted(feature["touched"]) if mt.get(p) is not ft.get(p)]
                a = h.author(bot_ok=False)
                h.commit("main", changes, f"Merge pull request #{100 + step} from acme-corp/{b}\n\n{b}",
                         author=a, merge=h.tips[b])
                h.stats["merges"] += 1
                if rng.random() < 0.5:
                    h.delete_branch(b)
                feature = None
                continue
            else:
                if churn(b, only_svc=feature["svc"]) is None:
                    continue
            feature["left"] = max(0, feature["left"] - 1)
            feature["done"] += 1
            after = h.trees[b]
            feature["touched"] |= {p for p in set(before) | set(after) if before.get(p) is not after.get(p)}
            continue
        avoid = feature["svc"] if feature else None
        # A branch that is never merged.
        if stale_at and step >= stale_at[0]:
            stale_at.pop(0)
            svc = rng.choice([s for s, _ in SERVICES if s != avoid])
            b = f"legacy/{svc}-{rng.choice(NOUNS)}-export"
            h.fork(b)
            for k in range(4):
                if k == 1 and special["stale"]:
                    plant(b, special["stale"], svc_ok=svc, ref=b, reach="unmerged branch")
                    special["stale"] = None
                else:
                    churn(b, only_svc=svc)
            continue
        # A commit reachable only from a tag.
        if tag_only_at is not None and step >= tag_only_at:
            tag_only_at = None
            b = "hotfix-tmp"
            h.fork(b)
            svc = rng.choice([s for s, _ in SERVICES if s != avoid])
            rec = plant(b, special["tag"], svc_ok=svc, ref="refs/tags/v1.3.1-hotfix", reach="tag only")
            h.tag("v1.3.1-hotfix", rec["mark"], "Hotfix build for the March incident (not merged)")
            h.delete_branch(b)
            for e in rec["entries"]:
                h.frozen.discard(e["path"])
            continue
        if release_tags and step >= release_tags[0]:
            release_tags.pop(0)
            name = next(tag_names)
            if name == "v1.4.0":
                h.lightweight_tag(name, h.tips["main"])
            else:
                h.tag(name, h.tips["main"], f"Release {name}")
        due = [r for r in pending_removals if r[0] <= step]
        if due:
            pending_removals.remove(due[0])
            remove("main", due[0][1])
            continue
        slot = min(plant_at, default=None)
        if slot is not None and slot <= step:
            rec = plant("main", plant_at.pop(slot), avoid_svc=avoid)
            if slot not in keep_at_head:
                pending_removals.append((step + rng.randint(2, 15), rec))
            continue
        churn("main", avoid_svc=avoid)
    # Slots not reached (small --commits) are skipped; removals still due are left at HEAD.
    if feature is not None and feature["rec"]:
        for e in feature["rec"]["entries"]:
            e["reach"] = "unmerged branch"
    h.finish()
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--commits", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--binaries", type=int, default=48)
    args = ap.parse_args()
    if os.path.exists(os.path.join(args.repo, ".git")) or (os.path.isdir(args.repo) and os.listdir(args.repo)):
        sys.exit(f"{args.repo} exists and is not empty")
    subprocess.run(["git", "init", "-q", "-b", "main", args.repo], check=True)
    args.marks = os.path.join(args.repo, ".git", "fast-import.marks")
    h = build(args)
    marks = {}
    with open(args.marks) as f:
        for line in f:
            m, sha = line.split()
            marks[int(m[1:])] = sha
    os.remove(args.marks)
    entries = []
    for e in h.planted:
        entries.append({"kind": e["kind"], "path": e["path"], "line": e["line"], "commit": marks[e["mark"]],
                        "removed_in": marks[e["removed_mark"]] if e["removed_mark"] else None,
                        "at_head": e["removed_mark"] is None and e["ref"] == "main", "ref": e["ref"], "reach": e["reach"],
                        "secret": e["secret"]})
    doc = {"repo": os.path.abspath(args.repo), "seed": args.seed, "commits": h.count, "merges": h.stats["merges"],
           "note": "line is 1-based (a PEM key: its BEGIN line); commit introduced the secret at path; removed_in "
                   "removed it (null: still there on its ref); reach: main, merged branch, unmerged branch or tag only",
           "planted": entries}
    with open(args.manifest, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"history_corpus: {h.count} commits ({h.stats['merges']} merges, {h.stats['tags']} tags), "
          f"{len(entries)} planted secrets -> {args.manifest}")


if __name__ == "__main__":
    main()
