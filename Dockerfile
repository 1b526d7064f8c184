# A Trellis worker. Build context: this repository. The tools module is named by TRELLIS_TOOLS (the examples'
# by default); mount or COPY your own and point TRELLIS_TOOLS at it.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY examples ./examples
COPY prompts ./prompts
RUN npm run build && npm prune --omit=dev
# The blob store's folder (TRELLIS_BLOB_STORE=/blobs in docker-compose.yml): a volume mounted here starts owned by node.
RUN mkdir -p /blobs && chown node:node /blobs
ENV NODE_ENV=production TRELLIS_TOOLS=/app/examples/tools.ts
USER node
CMD ["node", "dist/cli/main.js", "worker"]
