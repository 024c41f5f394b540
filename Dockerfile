# The service image used by docker-compose.yml.
FROM node:24-bookworm AS build
WORKDIR /app
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.build.json && date -u +%FT%TZ > dist/.build-stamp && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
EXPOSE 3000
STOPSIGNAL SIGTERM
# The same V8 flag as `npm start`: a larger young generation (see docs/versions.md).
CMD ["node", "--max-semi-space-size=32", "-r", "./scripts/register-aliases.js", "dist/apps/api/src/main.js"]
