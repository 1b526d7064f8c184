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
ENV NODE_ENV=production TRELLIS_TOOLS=/app/examples/tools.ts
USER node
CMD ["node", "dist/cli/main.js", "worker"]
