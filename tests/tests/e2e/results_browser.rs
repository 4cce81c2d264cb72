//! The figures as an SPA draws them: a page served by this server runs `runBacktest` over
//! `fetch`, hands each of the ten figures to plotly.js (`plotly.js-dist-min` from npm) in
//! headless Chromium, and reports what Plotly's own schema check (`Plotly.validate`) and the
//! console said. The monthly heatmap is then read back pixel by pixel: a losing month must
//! be drawn red and a winning one green.
//!
//! Needs `npm ci --prefix playground`, chromium and chromedriver (`.ci/run` provides them).

use std::path::PathBuf;

use serde_json::Value;
use tests::{
    Backend, TestApp,
    webdriver::{Browser, browser_tools},
};

/// The page: draws every figure and reports. Oct 2008 (SPY −16.5 %) and Apr 2009 (+9.9 %) are
/// the known losing and winning months of the 1.2x 2008–2009 run (too little leverage for a
/// margin call, so both months are in the market).
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><script src="plotly.min.js"></script></head>
<body><script>
const problems = [];
const report = console.error.bind(console);
console.error = (...args) => { problems.push(args.map(String).join(" ")); report(...args); };
console.warn = (...args) => { problems.push("warning: " + args.map(String).join(" ")); };
window.addEventListener("error", (e) => problems.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => problems.push(String(e.reason)));

const RUN = `mutation($input: BacktestInput!) { runBacktest(input: $input) { backtestSession {
  status result { monthlyReturns { year months } figures { name figure } } } } }`;

// The colour drawn for one cell: both axes are categories, so a cell's centre is at its
// index on each axis (l2p); the heatmap is an image laid over the plot area.
async function pixel(gd, month, year) {
  const img = gd.querySelector(".hm image");
  const image = new Image();
  image.src = img.getAttribute("href") || img.getAttribute("xlink:href");
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const attr = (name) => parseFloat(img.getAttribute(name) || "0");
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const trace = gd.data[0];
  const x = (xa.l2p(trace.x.indexOf(month)) - attr("x")) * image.naturalWidth / attr("width");
  const y = (ya.l2p(trace.y.indexOf(String(year))) - attr("y")) * image.naturalHeight / attr("height");
  return Array.from(context.getImageData(Math.floor(x), Math.floor(y), 1, 1).data.slice(0, 3));
}

window.drawAll = async () => {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: RUN, variables: { input: {
      ticker: "SPY", mode: "LIQUIDATION_REENTRY", startDate: "2008-01-02", endDate: "2009-12-31",
      leverage: 1.2, accountType: "REG_T", initialInvestment: 100000 } } }),
  });
  const body = await response.json();
  const result = body.data.runBacktest.backtestSession.result;
  const figures = [];
  let heatmap = null;
  for (const { name, figure } of result.figures) {
    const gd = document.createElement("div");
    gd.id = "figure-" + name;
    gd.style.width = "900px";
    gd.style.height = "520px";
    document.body.appendChild(gd);
    let invalid;
    try {
      invalid = (Plotly.validate(figure.data, figure.layout) || []).map((e) => e.msg);
    } catch (e) {
      invalid = ["Plotly.validate threw: " + e.message + " " + e.stack];
    }
    await Plotly.newPlot(gd, figure.data, figure.layout);
    const drawn = gd.querySelectorAll(".trace, .hm, .shapelayer path").length;
    figures.push({ name, invalid, drawn, traces: figure.data.length });
    if (name === "MONTHLY_HEATMAP") heatmap = gd;
  }
  const month = (year, index) => result.monthlyReturns.find((r) => r.year === year).months[index];
  return {
    problems,
    figures,
    loss: { value: month(2008, 9), rgb: await pixel(heatmap, "Oct", 2008) },
    gain: { value: month(2009, 3), rgb: await pixel(heatmap, "Apr", 2009) },
  };
};
</script></body></html>
"#;

/// A directory the server serves at `/graphql/assets`: the page and plotly.js beside it.
fn page_dir(assets: &std::path::Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("margin-figures-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    std::fs::copy(
        assets.join("plotly.js-dist-min/plotly.min.js"),
        dir.join("plotly.min.js"),
    )
    .expect("plotly.js copies");
    std::fs::write(dir.join("figures.html"), PAGE).expect("the page is written");
    dir
}

fn rgb(value: &Value) -> (i64, i64, i64) {
    let channel = |i: usize| value[i].as_i64().expect("a colour channel");
    (channel(0), channel(1), channel(2))
}

#[tokio::test]
async fn plotly_draws_all_ten_figures_and_the_heatmap_shows_losses_red() {
    let Some(tools) = browser_tools("plotly.js-dist-min/plotly.min.js") else {
        return;
    };
    let dir = page_dir(&tools.assets);
    let served = dir.clone();
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| {
        c.playground_assets = Some(served);
        c.anonymous_backtest = true;
    })
    .await
    .expect("SQLite is always there");
    let browser = Browser::launch(&tools.chromium, &tools.chromedriver)
        .await
        .expect("browser starts");
    browser
        .goto(&format!("{}/graphql/assets/figures.html", app.address))
        .await
        .expect("the page loads");
    let report = browser.run_script("return window.drawAll();").await;
    // MARGIN_TEST_SCREENSHOTS=DIR keeps a PNG of each figure, to look at them as a user would.
    if let (Ok(report), Some(out)) = (&report, std::env::var_os("MARGIN_TEST_SCREENSHOTS")) {
        std::fs::create_dir_all(&out).expect("the screenshot directory");
        for figure in report["figures"].as_array().into_iter().flatten() {
            let name = figure["name"].as_str().unwrap_or("figure");
            let element = browser
                .wait_for(
                    &format!("#figure-{name}"),
                    std::time::Duration::from_secs(5),
                )
                .await
                .expect("the figure's element");
            let png = browser.screenshot(&element).await.expect("a screenshot");
            std::fs::write(PathBuf::from(&out).join(format!("{name}.png")), png).expect("written");
        }
    }
    browser.close().await;
    app.stop().await;
    std::fs::remove_dir_all(&dir).ok();
    let report = report.expect("the page ran");

    let problems = report["problems"].as_array().expect("problems");
    assert!(problems.is_empty(), "console: {problems:?}");
    let figures = report["figures"].as_array().expect("figures");
    assert_eq!(figures.len(), 10, "{report}");
    for figure in figures {
        let invalid = figure["invalid"].as_array().expect("validation");
        assert!(invalid.is_empty(), "{}: {invalid:?}", figure["name"]);
        assert!(
            figure["drawn"].as_u64() >= figure["traces"].as_u64(),
            "{figure}: every trace drawn"
        );
    }
    let loss = &report["loss"];
    assert!(loss["value"].as_f64().expect("Oct 2008") < -0.1, "{loss}");
    eprintln!("heatmap: Oct 2008 {loss}, Apr 2009 {}", report["gain"]);
    let (r, g, b) = rgb(&loss["rgb"]);
    assert!(r > g + 60 && r > b + 60, "Oct 2008 is drawn red: {loss}");
    let gain = &report["gain"];
    assert!(gain["value"].as_f64().expect("Apr 2009") > 0.05, "{gain}");
    let (r, g, b) = rgb(&gain["rgb"]);
    assert!(g > r + 40 && g > b + 20, "Apr 2009 is drawn green: {gain}");
}
