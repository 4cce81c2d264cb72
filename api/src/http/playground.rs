//! The GraphiQL playground. By default it loads GraphiQL from a CDN; with
//! `MARGIN_PLAYGROUND_ASSETS` pointing at `playground/node_modules` (installed by
//! `npm ci --prefix playground`) it is served entirely by this binary and works offline.

const CDN: &str = "https://unpkg.com";
const LOCAL: &str = "/graphql/assets";

pub fn graphiql_html(local_assets: bool) -> String {
    let (base, react, react_dom, graphiql_js, graphiql_css) = if local_assets {
        (
            LOCAL,
            "react/umd/react.production.min.js",
            "react-dom/umd/react-dom.production.min.js",
            "graphiql/graphiql.min.js",
            "graphiql/graphiql.min.css",
        )
    } else {
        (
            CDN,
            "react@18.3.1/umd/react.production.min.js",
            "react-dom@18.3.1/umd/react-dom.production.min.js",
            "graphiql@3.8.3/graphiql.min.js",
            "graphiql@3.8.3/graphiql.min.css",
        )
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Margin analytics GraphQL playground</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="{base}/{graphiql_css}">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading the playground…</div>
  <script src="{base}/{react}"></script>
  <script src="{base}/{react_dom}"></script>
  <script src="{base}/{graphiql_js}"></script>
  <script>
    const wsScheme = location.protocol === "https:" ? "wss:" : "ws:";
    const fetcher = GraphiQL.createFetcher({{
      url: location.origin + "/graphql",
      subscriptionUrl: wsScheme + "//" + location.host + "/graphql/ws",
    }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{ fetcher, defaultEditorToolsVisibility: true }})
    );
  </script>
</body>
</html>
"#
    )
}
