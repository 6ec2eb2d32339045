// An old setup's providers.toml with two instances of the same OAuth type, each its own accounts
// (team and personal), and a login file as CLIProxyAPI writes one.

export const TWO_INSTANCES = `[global]
main_port = 18645
host = "127.0.0.1"

[instances.team]
port = 18646
providers = [ { type = "antigravity" } ]

[instances.personal]
port = 18647
providers = [ { type = "antigravity" } ]

[routing]
"work" = [ { instance = "team", provider = "antigravity", model = "gemini-3-flash" } ]
"home" = [ { instance = "personal", provider = "antigravity", model = "gemini-3-flash" } ]
`;

export const antigravityLogin = (email: string) => JSON.stringify({ type: "antigravity", access_token: "ya29.x", refresh_token: "1//SECRETrefresh0123456789", email });
