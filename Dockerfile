# syntax=docker/dockerfile:1
#
# containerd-orphan-exporter container image.
#
#   docker build -t containerd-orphan-exporter .
#   podman build --format docker -t containerd-orphan-exporter .   # OCI format drops HEALTHCHECK
#
# Stages: `deps` (production node_modules only), `build` (dev deps + tsc), and the runtime
# stage, which gets node_modules from `deps` and dist/ from `build`, so neither the TypeScript
# toolchain nor the npm cache ends up in the image. `deps` and `build` are independent and run in
# parallel under BuildKit.

# Base image for every stage. Any Debian-based Node 20 image works (it needs `node` and `npm`
# on PATH); scripts/image/test-image.sh passes a locally assembled one.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY src ./src
# No .git in the build context: the revision comes in as a build argument (build-info.ts).
ARG REVISION=unknown
RUN REVISION=$REVISION npm run build \
 && test -f dist/src/cli/main.js

FROM ${NODE_IMAGE}

# Re-declared so they can be used in this stage's labels.
ARG NODE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/containerd-orphan-exporter/containerd-orphan-exporter

LABEL org.opencontainers.image.title="containerd-orphan-exporter" \
      org.opencontainers.image.description="Prometheus exporter for the disk space containerd holds for nobody (stale leases, partial ingests, orphaned snapshots), with a token-protected prune endpoint." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.url="${SOURCE}" \
      org.opencontainers.image.documentation="${SOURCE}#readme" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

ENV NODE_ENV=production
WORKDIR /app

# package.json is needed at run time: its "type": "module" makes dist/*.js ES modules, and the
# exporter finds proto/ by walking up to the package root.
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY proto ./proto
COPY --from=build /app/dist ./dist

# Who the process runs as.
# containerd's socket is root:root 0660, so the default is uid 0 -- but run it WITHOUT
# privileges: the exporter needs no capability at all (uid 0 opens the socket as its owner,
# not through CAP_DAC_OVERRIDE), writes nothing to the root filesystem, and never escalates:
#   docker run --cap-drop ALL --read-only --security-opt no-new-privileges ...
#   Kubernetes: capabilities.drop [ALL], readOnlyRootFilesystem, allowPrivilegeEscalation false
# To run as non-root instead, give containerd's socket a group ([grpc] gid = <gid> in
# containerd's config.toml) and start the container with that supplementary group:
#   docker run --user 65534:65534 --group-add <gid> ...
# Rootless engines / user namespaces map uid 0 to an unprivileged host uid: the socket then
# needs the group approach too.
USER 0:0

# Metrics, landing page, /healthz (and /admin/prune unless --admin.listen-address moves it).
EXPOSE 9977

# No shell or curl needed: node itself probes /healthz. The address comes from
# --web.listen-address in PID 1's command line (also under an init such as tini / --init),
# else from CONTAINERD_ORPHAN_EXPORTER_WEB_LISTEN_ADDRESS, else :9977. A wildcard host is
# probed on 127.0.0.1. If plain HTTP is refused (TLS via --web.config.file), retries with
# HTTPS without certificate verification. Healthy = HTTP 200, or 401 when basic_auth_users in
# --web.config.file protects /healthz too (the server is up; the probe has no credentials).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "const fs=require('fs');let a;try{const v=fs.readFileSync('/proc/1/cmdline','utf8').split('\\0');for(let i=0;i<v.length&&a===undefined;i++){const m=/^--?web\\.listen-address(?:=(.*))?$/.exec(v[i]);if(m)a=m[1]!==undefined?m[1]:v[i+1];}}catch{}a=a||process.env.CONTAINERD_ORPHAN_EXPORTER_WEB_LISTEN_ADDRESS||':9977';const c=a.lastIndexOf(':');let h=a.slice(0,c).replace(/^\\[|\\]$/g,'');if(h===''||h==='0.0.0.0'||h==='::')h='127.0.0.1';const port=Number(a.slice(c+1));const probe=(mod,tls)=>{const r=require(mod).get({host:h,port,path:'/healthz',timeout:4000,rejectUnauthorized:false},s=>{s.resume();process.exit(s.statusCode===200||s.statusCode===401?0:1);});r.on('timeout',()=>r.destroy(new Error('timeout')));r.on('error',e=>{if(!tls&&e.message!=='timeout'&&e.code!=='ECONNREFUSED')probe('https',true);else{console.error(e.message);process.exit(1);}});};probe('http',false);"]

ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["serve"]
