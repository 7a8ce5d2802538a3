//! results.svg: one group of horizontal bars per goal row, one bar per
//! peer, every bar turned so that lower is better (Corium/peer for costs,
//! peer/Corium for rates), with parity (1.0) as a line and each bar's goal
//! bound as a red tick.
//!
//! The bars run horizontally so that every group's label reads in full at
//! README width; the parity line is therefore vertical. Drawn with
//! plotters' SVG backend and no font library: plotters only estimates
//! text sizes, and the SVG keeps text as `<text>` for the viewer to
//! render with its own fonts.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::goals::{Bar, GoalRow, Verdict};
use super::peers::PeerKind;

/// Width in pixels: readable at README width.
const WIDTH: u32 = 1000;
/// The column of group labels left of the plot is as wide as its longest
/// line, within these bounds.
const LABEL_WIDTH: (f64, f64) = (240.0, 400.0);
/// Right of the plot.
const RIGHT_MARGIN: u32 = 16;
/// Title, subtitle and legend above the plot.
const TOP: u32 = 84;
/// Axis labels and description below the plot.
const AXIS: u32 = 46;
/// One bar's thickness, and the step from one bar to the next.
const BAR: f64 = 12.0;
const BAR_STEP: f64 = 16.0;
/// Space above and below a group's bars.
const GROUP_PAD: f64 = 7.0;
/// A group is at least this tall, to fit its two-line label.
const GROUP_MIN: f64 = 36.0;
/// The longest the axis gets: a bar beyond is cut there and says so, so
/// that one outlier (timer lateness against smol) does not flatten the
/// rest.
const AXIS_CAP: f64 = 3.0;
/// Rough width of one character of 12 px text, in pixels, to decide
/// whether a value fits right of its bar and to lay out the legend.
const CHAR_PX: f64 = 6.6;

const FONT: &str = "sans-serif";
/// Text sizes as plotters counts them: its SVG backend writes a font-size
/// of size / 1.24, so these are 12, 13.7 and 19 px.
const SMALL: u32 = 15;
const NORMAL: u32 = 17;
const TITLE: u32 = 24;
const GOAL_RED: RGBColor = RGBColor(214, 39, 40);
const MET_GREEN: RGBColor = RGBColor(44, 140, 44);
const MUTED: RGBColor = RGBColor(110, 110, 110);
const BAND: RGBColor = RGBColor(243, 243, 243);

type Plot<'a> = DrawingArea<SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A drawing error as text.
fn err<E: std::fmt::Debug>(error: E) -> String {
    format!("drawing the chart: {error:?}")
}

/// Writes the chart of `goals` to `path`.
pub fn write(path: &Path, goals: &[GoalRow]) -> Result<(), String> {
    let svg = render(goals)?;
    std::fs::write(path, svg).map_err(|e| format!("could not write {}: {e}", path.display()))
}

/// The chart of `goals` as SVG text.
pub fn render(goals: &[GoalRow]) -> Result<String, String> {
    let groups: Vec<&GoalRow> = goals.iter().filter(|g| !g.bars.is_empty()).collect();
    let heights: Vec<f64> = groups.iter().map(|g| group_height(g)).collect();
    let plot_height: f64 = heights.iter().sum::<f64>().max(GROUP_MIN);
    let height = TOP + plot_height.ceil() as u32 + AXIS;
    let x_max = axis_max(&groups);
    let label_width = label_width(&groups);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, body) = root.split_vertically(TOP);
        draw_header(&top, &groups)?;
        let mut chart = ChartBuilder::on(&body)
            .margin_left(label_width)
            .margin_right(RIGHT_MARGIN)
            .x_label_area_size(AXIS)
            .build_cartesian_2d(0.0..x_max, 0.0..plot_height)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_labels(((x_max / 0.25).round() as usize + 1).min(13))
            .x_label_formatter(&|v| format!("{v:.2}x"))
            .x_desc("Corium / peer (rates inverted: peer / Corium): lower is better")
            .label_style((FONT, SMALL))
            .axis_desc_style((FONT, NORMAL))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(err)?;
        let plot = chart.plotting_area();
        let mut top_px = 0.0;
        for (index, (group, h)) in groups.iter().zip(&heights).enumerate() {
            // Plot y runs upwards; groups are laid out downwards from the top.
            let (y_top, y_bottom) = (plot_height - top_px, plot_height - top_px - h);
            if index % 2 == 0 {
                plot.draw(&Rectangle::new(
                    [(0.0, y_top), (x_max, y_bottom)],
                    BAND.filled(),
                ))
                .map_err(err)?;
            }
            let (_, y_mid) = chart.backend_coord(&(0.0, (y_top + y_bottom) / 2.0));
            draw_group_label(&root, (label_width as i32 - 10, y_mid), group)?;
            let first_bar = y_top - GROUP_PAD - (h - 2.0 * GROUP_PAD - bars_height(group)) / 2.0;
            for (i, bar) in group.bars.iter().enumerate() {
                draw_bar(plot, bar, first_bar - i as f64 * BAR_STEP, x_max)?;
            }
            top_px += h;
        }
        plot.draw(&PathElement::new(
            vec![(1.0, 0.0), (1.0, plot_height)],
            BLACK.stroke_width(2),
        ))
        .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The height of the bars of `group`, without padding.
fn bars_height(group: &GoalRow) -> f64 {
    (group.bars.len() as f64 - 1.0) * BAR_STEP + BAR
}

fn group_height(group: &GoalRow) -> f64 {
    (bars_height(group) + 2.0 * GROUP_PAD).max(GROUP_MIN)
}

/// The axis' end: a little past the longest bar or goal, at least 1.25,
/// at most [`AXIS_CAP`], on a multiple of 0.25.
fn axis_max(groups: &[&GoalRow]) -> f64 {
    let longest = groups
        .iter()
        .flat_map(|g| &g.bars)
        .flat_map(|b| [b.value, b.goal, b.spread.map(|(_, hi)| hi)])
        .flatten()
        .filter(|&v| v <= AXIS_CAP)
        .fold(0.0, f64::max);
    ((longest * 1.08 / 0.25).ceil() * 0.25).clamp(1.25, AXIS_CAP)
}

/// One bar, its spread, its goal tick and its value, centred on `y`.
fn draw_bar(plot: &Plot<'_>, bar: &Bar, y: f64, x_max: f64) -> Result<(), String> {
    let (y0, y1) = (y, y - BAR);
    let mid = y - BAR / 2.0;
    let label = bar_label(bar);
    let Some(value) = bar.value else {
        let style = text_style(SMALL, &MUTED, HPos::Left);
        return plot
            .draw(&Text::new(
                format!("n/a {label}"),
                (x_max * 0.01, mid),
                style,
            ))
            .map_err(err);
    };
    let end = value.min(x_max);
    plot.draw(&Rectangle::new(
        [(0.0, y0), (end, y1)],
        color(bar.peer).filled(),
    ))
    .map_err(err)?;
    let mut text_at = end;
    if let Some((lo, hi)) = bar.spread {
        let (lo, hi) = (lo.min(x_max), hi.min(x_max));
        let whisker = BLACK.stroke_width(1);
        plot.draw(&PathElement::new(vec![(lo, mid), (hi, mid)], whisker))
            .map_err(err)?;
        for x in [lo, hi] {
            plot.draw(&PathElement::new(
                vec![(x, y0 - 2.0), (x, y1 + 2.0)],
                whisker,
            ))
            .map_err(err)?;
        }
        text_at = text_at.max(hi);
    }
    if let Some(goal) = bar.goal.filter(|&g| g <= x_max) {
        plot.draw(&PathElement::new(
            vec![(goal, y0 + 3.0), (goal, y1 - 3.0)],
            GOAL_RED.stroke_width(3),
        ))
        .map_err(err)?;
        // The value goes right of the tick, not across it.
        text_at = text_at.max(goal);
    }
    let off_scale = if value > x_max { " (off scale)" } else { "" };
    let text = format!("{value:.2} {label}{off_scale}");
    let plot_px = f64::from(plot.dim_in_pixel().0);
    let fits_right = (text_at / x_max) * plot_px + 6.0 + text.len() as f64 * CHAR_PX < plot_px;
    let (x, style) = if fits_right {
        (
            text_at + x_max * 0.008,
            text_style(SMALL, &BLACK, HPos::Left),
        )
    } else {
        (end - x_max * 0.008, text_style(SMALL, &WHITE, HPos::Right))
    };
    plot.draw(&Text::new(text, (x, mid), style)).map_err(err)
}

/// What a bar's text says after its value.
fn bar_label(bar: &Bar) -> String {
    if bar.inverted {
        format!("{} (inverted)", bar.label)
    } else {
        bar.label.clone()
    }
}

/// The second line of a group's label.
fn goal_line(group: &GoalRow) -> String {
    format!("goal {}: {}", group.goal, group.verdict.word())
}

/// Wide enough for the longest group label (the first line is in larger
/// type), within [`LABEL_WIDTH`].
fn label_width(groups: &[&GoalRow]) -> u32 {
    let longest = groups
        .iter()
        .map(|g| {
            (g.benchmark.chars().count() as f64 * 1.15).max(goal_line(g).chars().count() as f64)
        })
        .fold(0.0, f64::max);
    (longest * CHAR_PX + 24.0).clamp(LABEL_WIDTH.0, LABEL_WIDTH.1) as u32
}

/// The group's name and its goal and verdict, right-aligned at `(x, y)`,
/// the group's middle left of the plot.
fn draw_group_label(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    (x, y): (i32, i32),
    group: &GoalRow,
) -> Result<(), String> {
    root.draw(&Text::new(
        group.benchmark.clone(),
        (x, y - 8),
        text_style(NORMAL, &BLACK, HPos::Right),
    ))
    .map_err(err)?;
    let verdict_color = match group.verdict {
        Verdict::Met => &MET_GREEN,
        Verdict::Missed => &GOAL_RED,
        _ => &MUTED,
    };
    root.draw(&Text::new(
        goal_line(group),
        (x, y + 9),
        text_style(SMALL, verdict_color, HPos::Right),
    ))
    .map_err(err)
}

/// Title, how to read the chart, and the legend (the peer kinds present).
fn draw_header(
    top: &DrawingArea<SVGBackend<'_>, Shift>,
    groups: &[&GoalRow],
) -> Result<(), String> {
    top.draw(&Text::new(
        "Corium against its peers, same run: lower is better",
        (12, 16),
        text_style(TITLE, &BLACK, HPos::Left),
    ))
    .map_err(err)?;
    top.draw(&Text::new(
        "Bar: Corium / peer (rates inverted: peer / Corium). Black line: parity. \
         Red tick: the goal. Grey: against the raw epoll loop, the limit, not a peer.",
        (12, 38),
        text_style(SMALL, &MUTED, HPos::Left),
    ))
    .map_err(err)?;
    let mut x = 12;
    let y = 64;
    for kind in PeerKind::ALL {
        if !groups.iter().flat_map(|g| &g.bars).any(|b| b.peer == kind) {
            continue;
        }
        top.draw(&Rectangle::new(
            [(x, y - 6), (x + 12, y + 6)],
            color(kind).filled(),
        ))
        .map_err(err)?;
        let text = kind.header();
        top.draw(&Text::new(
            text,
            (x + 17, y),
            text_style(SMALL, &BLACK, HPos::Left),
        ))
        .map_err(err)?;
        x += 17 + (text.len() as f64 * CHAR_PX) as i32 + 16;
    }
    top.draw(&PathElement::new(
        vec![(x + 6, y - 7), (x + 6, y + 7)],
        GOAL_RED.stroke_width(3),
    ))
    .map_err(err)?;
    top.draw(&Text::new(
        "goal",
        (x + 14, y),
        text_style(SMALL, &BLACK, HPos::Left),
    ))
    .map_err(err)
}

fn text_style(size: u32, color: &'static RGBColor, h: HPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .color(color)
        .pos(Pos::new(h, VPos::Center))
}

/// A bar's colour: one per kind of peer; the limits in grey.
fn color(kind: PeerKind) -> RGBColor {
    match kind {
        PeerKind::Tokio => RGBColor(31, 119, 180),
        PeerKind::Smol => RGBColor(255, 127, 14),
        PeerKind::Epoll => RGBColor(127, 127, 127),
        PeerKind::Polling => RGBColor(180, 180, 180),
        PeerKind::Redis => RGBColor(140, 86, 75),
        PeerKind::Nginx => RGBColor(148, 103, 189),
        PeerKind::OwnCt => RGBColor(23, 170, 187),
        PeerKind::Other => RGBColor(188, 189, 34),
    }
}
