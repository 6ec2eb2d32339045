// Bun's flags for running gw's source in any folder. Without them Bun reads the bunfig.toml of the
// folder it runs in (its preloads run first) and its .env: a cloned repo's code ran, with the
// user's environment and keys, when cld or gw was typed there, and its .env could set $GW_URL.
// The compiled binary turns both off when it is built (release/build.ts).

export const SOURCE_RUN_FLAGS = ["--no-env-file", "--config=/dev/null"] as const;

