// The status page `/_gw/`: one self-contained HTML file (inline CSS, vanilla JS, SVG charts, no
// external URLs), embedded in the binary as text. It polls `api/status` beside itself every 2 seconds
// (`/_gw/api/status`, or under the prefix a reverse proxy serves it at).

import html from "./status.html" with { type: "text" };

/** bun-types declares every *.html import as an HTMLBundle; `type: "text"` makes it the file's text. */
export const STATUS_PAGE = html as unknown as string;
