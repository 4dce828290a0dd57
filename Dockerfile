# Wildsight server image: the PWA, the model registry and the feedback API.
# UNTESTED: Docker cannot run where this was written (see README, "Feedback server").
#
# The model files are built from ../shared, which is outside the build
# context, so build them on the host first (`npm run models:build`); the
# image takes models/registry/ as it is and `npm start` finds nothing to build.
FROM node:20-slim

# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Dev dependencies stay: `npm start` runs TypeScript through tsx, and the build needs vite.
RUN npm ci --no-audit --no-fund

COPY . .
RUN test -f models/registry/1.0.0/model.onnx || { echo "models/registry/*/model.onnx missing: run 'npm run models:build' on the host before 'docker build'" >&2; exit 1; } \
 && npm run build

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
# The SQLite file lives here when DATABASE_URL is unset; mount a volume to keep it.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
EXPOSE 8080
USER node
CMD ["npm", "start"]
