# Steward image: `docker compose up` runs redis + bot + worker from it (see docker-compose.yml).
# Targets: `cpu` (default, node:20 slim) and `gpu` (CUDA 12 + cuDNN runtime, onnxruntime-node's CUDA provider).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS node

# ---- build: TypeScript → dist/ (the images run compiled JavaScript; tsx and tsc stay out of them) -----------
FROM node AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY app app
COPY worker worker
COPY adapters adapters
COPY queue queue
COPY dashboard dashboard
COPY models/runtime models/runtime
RUN npm run build

# ---- CPU ----------------------------------------------------------------------------------------------------
FROM node AS cpu
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
# .npmrc skips onnxruntime-node's optional GPU download: the CPU build ships inside the npm package.
# --ignore-scripts: the `prepare` build needs dev tools; dist/ comes from the build stage instead.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY . .
COPY --from=build /app/dist dist
# Models, settings files (local mode) and the cache of hub models live here when mounted.
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
# The node flags every Steward process starts with: app/node-flags.ts says why.
ENTRYPOINT ["node", "--initial-old-space-size=256", "bin/steward.js"]
CMD ["bot"]

# ---- GPU ----------------------------------------------------------------------------------------------------
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04 AS gpu
# Node.js from the official image: the same binary as the CPU target, on the CUDA base.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && useradd --create-home --uid 1000 node
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
# cuda12 makes onnxruntime-node fetch its CUDA execution provider during install.
RUN npm ci --omit=dev --ignore-scripts \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node && npm cache clean --force
COPY . .
COPY --from=build /app/dist dist
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
ENTRYPOINT ["node", "--initial-old-space-size=256", "bin/steward.js"]
CMD ["worker", "--device", "cuda"]

# The default target when none is given.
FROM cpu
