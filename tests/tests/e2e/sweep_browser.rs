//! A sweep's heatmap as an SPA draws it: a page served by this server runs a 2-D `runSweep`
//! over `fetch`, hands `heatmap(metric: CAGR)` to plotly.js (`plotly.js-dist-min` from npm)
//! in headless Chromium, and reports what Plotly's own schema check (`Plotly.validate`), the
//! console, the drawn SVG and the heatmap's pixels say: 3 rows × 6 columns with the error
//! column a gap, the axes titled with the parameters, a diverging scale centred at zero, and
//! every cell drawn in the scale's colour for its CAGR (losses red, gains green).
//!
//! Needs `npm ci --prefix playground`, chromium and chromedriver (`.ci/run` provides them).

use std::path::PathBuf;

use serde_json::Value;
use tests::{
    Backend, TestApp,
    webdriver::{Browser, browser_tools},
};

/// The page: runs the sweep, draws the heatmap and reports. Leverage 2.5 is above REG_T's
/// maximum (2), so that column is error cells; start years 2005, 2008 and 2011 all end on
/// 2020-12-31.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><script src="plotly.min.js"></script></head>
<body><script>
const problems = [];
const report = console.error.bind(console);
console.error = (...args) => { problems.push(args.map(String).join(" ")); report(...args); };
console.warn = (...args) => { problems.push("warning: " + args.map(String).join(" ")); };
window.addEventListener("error", (e) => problems.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => problems.push(String(e.reason)));

const RUN = `mutation($input: SweepInput!) { runSweep(input: $input) { sweepSession {
  status cellCount heatmap(metric: CAGR)
  cells(first: 100) { edges { node { x y error { field } summary { cagr } } } } } } }`;

const X = [1, 1.25, 1.5, 1.75, 2, 2.5];
const Y = [2005, 2008, 2011];

// The heatmap is an image laid over the plot area; both axes are categories, so a cell's
// centre is at its category's position on each axis (d2l, then l2p).
async function cellColours(gd) {
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
  const rows = [];
  for (let j = 0; j < trace.y.length; j++) {
    const row = [];
    for (let i = 0; i < trace.x.length; i++) {
      const x = (xa.l2p(xa.d2l(trace.x[i])) - attr("x")) * image.naturalWidth / attr("width");
      const y = (ya.l2p(ya.d2l(trace.y[j])) - attr("y")) * image.naturalHeight / attr("height");
      row.push(Array.from(context.getImageData(Math.floor(x), Math.floor(y), 1, 1).data));
    }
    rows.push(row);
  }
  return rows;
}

const texts = (gd, css) => Array.from(gd.querySelectorAll(css)).map((t) => t.textContent);

// One sweep drawn into a new element `id`: what the server, Plotly and the pixels say.
async function drawSweep(id, input) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: RUN, variables: { input } }),
  });
  const body = await response.json();
  if (!body.data) return { graphqlErrors: body.errors };
  const sweep = body.data.runSweep.sweepSession;
  const figure = sweep.heatmap;
  const gd = document.createElement("div");
  gd.id = id;
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
  const full = gd._fullData[0];
  return {
    invalid,
    status: sweep.status,
    cellCount: sweep.cellCount,
    cells: sweep.cells.edges.map((e) => e.node),
    figure,
    drawn: {
      type: full.type,
      x: full.x,
      y: full.y,
      z: full.z,
      zmid: full.zmid === undefined ? null : full.zmid,
      zmin: full.zmin,
      zmax: full.zmax,
      colorscale: full.colorscale,
      images: gd.querySelectorAll(".hm image").length,
      colorbars: gd.querySelectorAll(".colorbar").length,
      xTitle: texts(gd, ".g-xtitle text").join(" "),
      yTitle: texts(gd, ".g-ytitle text").join(" "),
      title: texts(gd, ".g-gtitle text").join(" "),
      colourTitle: texts(gd, ".colorbar .cbtitle text").join(" "),
      xTicks: texts(gd, ".xtick text"),
      yTicks: texts(gd, ".ytick text"),
    },
    colours: await cellColours(gd),
  };
}

const base = (startDate, endDate) => ({ ticker: "SPY", mode: "LIQUIDATION_REENTRY", startDate,
  endDate, leverage: 1, accountType: "REG_T", initialInvestment: 100000 });

window.drawAll = async () => {
  const sweep = await drawSweep("sweep-heatmap", {
    base: base("2005-01-03", "2020-12-31"),
    x: { parameter: "LEVERAGE", values: X },
    y: { parameter: "START_YEAR", values: Y } });
  // Every cell of the grid above gains; to see a loss drawn, 2008–2010 loses at any leverage
  // (SPY −37 % in 2008) while 2009–2010 gains.
  const losses = await drawSweep("sweep-heatmap-losses", {
    base: base("2008-01-02", "2010-12-31"),
    x: { parameter: "LEVERAGE", values: [1, 2] },
    y: { parameter: "START_YEAR", values: [2008, 2009] } });
  return { problems, sweep, losses };
};
</script></body></html>
"#;

const X: [f64; 6] = [1.0, 1.25, 1.5, 1.75, 2.0, 2.5];
const Y: [f64; 3] = [2005.0, 2008.0, 2011.0];

/// A directory the server serves at `/graphql/assets`: the page and plotly.js beside it.
fn page_dir(assets: &std::path::Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("margin-sweep-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    std::fs::copy(
        assets.join("plotly.js-dist-min/plotly.min.js"),
        dir.join("plotly.min.js"),
    )
    .expect("plotly.js copies");
    std::fs::write(dir.join("sweep.html"), PAGE).expect("the page is written");
    dir
}

fn hex(colour: &str) -> [f64; 3] {
    let channel = |i: usize| {
        f64::from(u8::from_str_radix(&colour[1 + 2 * i..3 + 2 * i], 16).expect("a hex colour"))
    };
    [channel(0), channel(1), channel(2)]
}

/// The colour `scale` (`[[at, "#rrggbb"], …]`) gives at `t` in 0..=1, interpolated in RGB as
/// Plotly does.
fn scale_colour(scale: &[Value], t: f64) -> [f64; 3] {
    let stops: Vec<(f64, [f64; 3])> = scale
        .iter()
        .map(|s| {
            (
                s[0].as_f64().expect("a stop"),
                hex(s[1].as_str().expect("a colour")),
            )
        })
        .collect();
    let t = t.clamp(0.0, 1.0);
    let k = stops
        .windows(2)
        .position(|w| t <= w[1].0)
        .unwrap_or(stops.len() - 2);
    let ((a, ca), (b, cb)) = (stops[k], stops[k + 1]);
    let f = if b > a { (t - a) / (b - a) } else { 0.0 };
    [0, 1, 2].map(|i| ca[i] + (cb[i] - ca[i]) * f)
}

fn rgba(value: &Value) -> [i64; 4] {
    [0, 1, 2, 3].map(|i| value[i].as_i64().expect("a colour channel"))
}

/// The sweep's CAGRs as `[row (y)][column (x)]`, in percent, from its cells (grid order: y
/// outer, x inner); leverage above REG_T's 2 is an error cell, `None`.
fn cagr_grid(sweep: &Value, xs: &[f64], ys: &[f64]) -> Vec<Vec<Option<f64>>> {
    assert!(sweep.get("graphqlErrors").is_none(), "{sweep}");
    assert_eq!(sweep["status"], "COMPLETED", "{sweep}");
    let invalid = sweep["invalid"].as_array().expect("validation");
    assert!(invalid.is_empty(), "Plotly.validate: {invalid:?}");
    let cells = sweep["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), xs.len() * ys.len(), "{sweep}");
    let mut grid = vec![vec![None; xs.len()]; ys.len()];
    for (k, cell) in cells.iter().enumerate() {
        let (i, j) = (k % xs.len(), k / xs.len());
        assert_eq!(
            (cell["x"].as_f64(), cell["y"].as_f64()),
            (Some(xs[i]), Some(ys[j]))
        );
        if xs[i] > 2.0 {
            assert_eq!(cell["error"]["field"], "leverage", "{cell}");
            assert!(cell["summary"].is_null(), "{cell}");
        } else {
            assert!(cell["error"].is_null(), "{cell}");
            grid[j][i] = Some(cell["summary"]["cagr"].as_f64().expect("a CAGR") * 100.0);
        }
    }
    grid
}

/// The scale as drawn: diverging (red, white in the middle, green) with zmid 0 and a range
/// symmetric about it; then every cell's pixel is the scale's colour for its value (a loss
/// red-ish, a gain green-ish) and every error cell a transparent gap. Returns (red, green)
/// cell counts.
fn check_colours(
    sweep: &Value,
    grid: &[Vec<Option<f64>>],
    xs: &[f64],
    ys: &[f64],
) -> (usize, usize) {
    let drawn = &sweep["drawn"];
    assert_eq!(
        sweep["figure"]["data"][0]["zmid"].as_f64(),
        Some(0.0),
        "{sweep}"
    );
    assert_eq!(drawn["zmid"].as_f64(), Some(0.0), "{drawn}");
    let (zmin, zmax) = (
        drawn["zmin"].as_f64().expect("zmin"),
        drawn["zmax"].as_f64().expect("zmax"),
    );
    assert!(
        zmax > 0.0 && (zmin + zmax).abs() < 1e-9,
        "symmetric: {zmin}..{zmax}"
    );
    let largest = grid
        .iter()
        .flatten()
        .flatten()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    assert!(
        (zmax - largest).abs() < 1e-3,
        "zmax {zmax} is the largest |CAGR| {largest}"
    );
    let scale = drawn["colorscale"].as_array().expect("a colour scale");
    let [low, mid, high] = [0.0, 0.5, 1.0].map(|t| scale_colour(scale, t));
    assert!(
        low[0] > low[1] + 60.0 && low[0] > low[2] + 60.0,
        "low end red: {low:?}"
    );
    assert!(mid.iter().all(|c| *c > 230.0), "white at zero: {mid:?}");
    assert!(
        high[1] > high[0] + 40.0 && high[1] > high[2] + 40.0,
        "high end green: {high:?}"
    );

    let colours = sweep["colours"].as_array().expect("colours");
    assert_eq!(colours.len(), ys.len());
    let (mut reds, mut greens) = (0, 0);
    for (j, row) in colours.iter().enumerate() {
        for (i, pixel) in row.as_array().expect("a row").iter().enumerate() {
            let [r, g, b, a] = rgba(pixel);
            let (x, y) = (xs[i], ys[j]);
            let Some(v) = grid[j][i] else {
                assert_eq!(a, 0, "error cell {x} × {y} is a gap: {pixel}");
                continue;
            };
            assert_eq!(a, 255, "cell {x} × {y} is drawn: {pixel}");
            let want = scale_colour(scale, (v - zmin) / (zmax - zmin));
            let off = [r, g, b]
                .iter()
                .zip(want)
                .map(|(got, w)| (*got as f64 - w).abs())
                .fold(0.0, f64::max);
            eprintln!("cell {x} × {y}: CAGR {v:.3} % drawn {pixel}");
            assert!(
                off <= 6.0,
                "cell {x} × {y} (CAGR {v:.3} %) drawn {pixel}, the scale gives {want:?}"
            );
            if v < 0.0 {
                assert!(r > g && r > b, "a loss is red-ish: {x} × {y} {pixel}");
                reds += 1;
            } else if v > 0.0 {
                assert!(g > r && g > b, "a gain is green-ish: {x} × {y} {pixel}");
                greens += 1;
            }
        }
    }
    (reds, greens)
}

#[tokio::test]
async fn plotly_draws_the_sweep_heatmap_with_gaps_titles_and_a_scale_centred_at_zero() {
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
        .goto(&format!("{}/graphql/assets/sweep.html", app.address))
        .await
        .expect("the page loads");
    let report = browser.run_script("return window.drawAll();").await;
    // MARGIN_TEST_SCREENSHOTS=DIR keeps a PNG of each heatmap, to look at it as a user would.
    if let (Ok(report), Some(out)) = (&report, std::env::var_os("MARGIN_TEST_SCREENSHOTS")) {
        std::fs::create_dir_all(&out).expect("the screenshot directory");
        for (key, id) in [
            ("sweep", "sweep-heatmap"),
            ("losses", "sweep-heatmap-losses"),
        ] {
            if report[key].get("figure").is_none() {
                continue;
            }
            // An element screenshot is cut at the viewport: the second figure is below it.
            browser
                .run_script(&format!(
                    "document.getElementById('{id}').scrollIntoView();"
                ))
                .await
                .expect("the figure scrolls into view");
            let element = browser
                .wait_for(&format!("#{id}"), std::time::Duration::from_secs(5))
                .await
                .expect("the figure's element");
            let png = browser.screenshot(&element).await.expect("a screenshot");
            std::fs::write(PathBuf::from(&out).join(format!("{id}.png")), png).expect("written");
        }
    }
    browser.close().await;
    app.stop().await;
    std::fs::remove_dir_all(&dir).ok();
    let report = report.expect("the page ran");

    let problems = report["problems"].as_array().expect("problems");
    assert!(problems.is_empty(), "console: {problems:?}");
    let sweep = &report["sweep"];
    let grid = cagr_grid(sweep, &X, &Y);
    assert_eq!(sweep["cellCount"], 18);
    let drawn = &sweep["drawn"];
    assert_eq!(drawn["type"], "heatmap", "{drawn}");
    assert_eq!(drawn["images"], 1, "one heatmap image drawn: {drawn}");

    // As drawn: 3 rows × 6 columns, the error column (leverage 2.5) null, each value the
    // cell's CAGR in percent (6 significant digits).
    let z = drawn["z"].as_array().expect("z rows");
    assert_eq!(z.len(), 3, "{drawn}");
    for (j, row) in z.iter().enumerate() {
        let row = row.as_array().expect("a z row");
        assert_eq!(row.len(), 6, "{drawn}");
        for (i, value) in row.iter().enumerate() {
            match grid[j][i] {
                None => assert!(value.is_null(), "z[{j}][{i}] is a gap: {value}"),
                Some(c) => {
                    let v = value.as_f64().expect("a drawn value");
                    assert!(
                        (v - c).abs() <= 1e-5 * c.abs().max(1.0),
                        "z[{j}][{i}] = {v}, the cell's CAGR {c} %"
                    );
                }
            }
        }
    }
    assert!(
        grid.iter().all(|row| row[5].is_none()),
        "leverage 2.5 is the error column"
    );
    let ticks = |name: &str| -> Vec<String> {
        drawn[name]
            .as_array()
            .expect("ticks")
            .iter()
            .map(|t| t.as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(ticks("xTicks"), ["1", "1.25", "1.5", "1.75", "2", "2.5"]);
    assert_eq!(ticks("yTicks"), ["2005", "2008", "2011"]);

    // The axes are titled with the parameters, and the SVG shows exactly those titles.
    let layout = &sweep["figure"]["layout"];
    for (axis, shown, name) in [
        ("xaxis", "xTitle", "leverage"),
        ("yaxis", "yTitle", "start year"),
    ] {
        let title = layout[axis]["title"]["text"].as_str().unwrap_or_default();
        assert!(
            title.to_lowercase().contains(name),
            "{axis} title {title:?} names {name}"
        );
        assert_eq!(
            drawn[shown].as_str(),
            Some(title),
            "{axis} title drawn: {drawn}"
        );
    }
    let title = layout["title"]["text"].as_str().unwrap_or_default();
    assert!(
        !title.is_empty() && drawn["title"].as_str() == Some(title),
        "{drawn}"
    );
    assert_eq!(drawn["colorbars"], 1, "{drawn}");
    assert!(
        drawn["colourTitle"]
            .as_str()
            .is_some_and(|t| t.contains("CAGR")),
        "{drawn}"
    );

    // Centred at zero, every cell its colour on the scale, the gaps transparent.
    let (_, greens) = check_colours(sweep, &grid, &X, &Y);
    assert!(greens > 0, "some cell of 2005–2020 gains");

    // A loss and a gain on one scale: the 2008 start loses (red), the 2009 start gains (green).
    let losses = &report["losses"];
    let (xs, ys) = ([1.0, 2.0], [2008.0, 2009.0]);
    let grid = cagr_grid(losses, &xs, &ys);
    assert!(
        grid[0].iter().flatten().all(|v| *v < 0.0),
        "2008–2010 loses: {grid:?}"
    );
    assert!(
        grid[1].iter().flatten().all(|v| *v > 0.0),
        "2009–2010 gains: {grid:?}"
    );
    let (reds, greens) = check_colours(losses, &grid, &xs, &ys);
    assert_eq!((reds, greens), (2, 2), "{grid:?}");
}
