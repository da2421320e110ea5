# Steward image: `docker compose up` runs redis + bot + worker from it (see docker-compose.yml).
# Targets: `cpu` (default, node:20 slim) and `gpu` (CUDA 12 + cuDNN runtime, onnxruntime-node's CUDA provider).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS node

# ---- CPU ----------------------------------------------------------------------------------------------------
FROM node AS cpu
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
# .npmrc skips onnxruntime-node's optional GPU download: the CPU build ships inside the npm package.
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
# Models, settings files (local mode) and the cache of hub models live here when mounted.
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
ENTRYPOINT ["node", "bin/steward.js"]
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
RUN ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev && npm cache clean --force
COPY . .
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
ENTRYPOINT ["node", "bin/steward.js"]
CMD ["worker", "--device", "cuda"]

# The default target when none is given.
FROM cpu
