//! Progress of long work on stderr: reading log files (CloudTrail, Cloud Audit Logs, Activity
//! Log) and collecting inventories (per account, subscription, project or step).
//!
//! Three displays, chosen once per run by [`Display::for_stderr`]:
//! - [`Display::Bar`] when stderr is a terminal: an indicatif bar (files read of files listed)
//!   or, while the total is unknown, a spinner with the counts and the rate;
//! - [`Display::Lines`] when stderr is not a terminal (CI logs, a CronJob's logs, tests): the
//!   plain lines scripts already read, `reading CloudTrail: 3/10 files, 200 events`;
//! - [`Display::Hidden`] with `--quiet`.
//!
//! Data goes to stdout; nothing here writes there. The bars use no colour, so `NO_COLOR` needs
//! nothing more.

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How progress is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Display {
    /// `--quiet`: nothing.
    Hidden,
    /// stderr is a terminal: a bar redrawn in place.
    Bar,
    /// stderr is a file or a pipe: plain lines.
    Lines,
}

impl Display {
    /// The display for this process's stderr.
    pub(super) fn for_stderr(quiet: bool) -> Self {
        Self::choose(quiet, std::io::stderr().is_terminal())
    }

    fn choose(quiet: bool, terminal: bool) -> Self {
        match (quiet, terminal) {
            (true, _) => Display::Hidden,
            (false, true) => Display::Bar,
            (false, false) => Display::Lines,
        }
    }
}

/// The counters of a reading at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub files_done: u64,
    /// 0 while the files are being listed.
    pub files_total: u64,
    pub records: u64,
}

/// What a reading is called in its progress line: `{what}: 3/10 files, 200 {records}`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reading {
    pub what: &'static str,
    pub records: &'static str,
}

impl Reading {
    /// The plain line (no carriage return).
    fn line(&self, counts: Counts) -> String {
        format!(
            "{}: {}/{} files, {} {}",
            self.what, counts.files_done, counts.files_total, counts.records, self.records
        )
    }
}

/// How often the counters are read.
const TICK: Duration = Duration::from_millis(50);
/// Readings shorter than this print nothing, in either display.
const QUIET_START: Duration = Duration::from_millis(500);

const SPINNER_TEMPLATE: &str = "{spinner} {prefix}: {pos} files, {msg} [{elapsed}]";
const BAR_TEMPLATE: &str =
    "{prefix}: [{bar:30}] {pos}/{len} files, {msg} [{elapsed}, about {eta} left]";
const STEP_TEMPLATE: &str = "{spinner} {prefix}{msg} [{pos} done, {elapsed}]";
const STEP_BAR_TEMPLATE: &str = "{prefix}[{bar:20}] {pos}/{len} {msg} [{elapsed}]";

fn style(template: &str, bar: bool) -> ProgressStyle {
    // The templates are constants checked by a test; the fallback only keeps a typo from
    // stopping a run.
    let fallback = if bar {
        ProgressStyle::default_bar()
    } else {
        ProgressStyle::default_spinner()
    };
    ProgressStyle::with_template(template)
        .map(|style| style.progress_chars("=> "))
        .unwrap_or(fallback)
}

/// Runs `work` while showing `counts` on stderr (nothing with `quiet`).
pub(super) fn while_reading<T>(
    reading: Reading,
    quiet: bool,
    counts: impl Fn() -> Counts + Sync,
    work: impl FnOnce() -> T,
) -> T {
    let display = Display::for_stderr(quiet);
    if display == Display::Hidden {
        return work();
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| watch(display, reading, &counts, &done));
        // Set on the way out even if `work` panics, so that the watcher (and the scope) ends.
        let _finished = SetOnDrop(&done);
        work()
    })
}

struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Shows `counts` in `display` until `done` is set; for a thread of its own.
pub(super) fn watch(
    display: Display,
    reading: Reading,
    counts: &(dyn Fn() -> Counts + Sync),
    done: &AtomicBool,
) {
    match display {
        Display::Hidden => {}
        Display::Lines => watch_lines(reading, counts, done),
        Display::Bar => watch_bar(reading, counts, done),
    }
}

/// The line redrawn with `\r` every half second; the last one ends with a newline.
fn watch_lines(reading: Reading, counts: &(dyn Fn() -> Counts + Sync), done: &AtomicBool) {
    let mut printed = false;
    let mut ticks = 0u32;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        ticks += 1;
        if !ticks.is_multiple_of(10) {
            continue;
        }
        eprint!("\r{}", reading.line(counts()));
        printed = true;
    }
    if printed {
        eprintln!("\r{}", reading.line(counts()));
    }
}

fn watch_bar(reading: Reading, counts: &(dyn Fn() -> Counts + Sync), done: &AtomicBool) {
    let started = Instant::now();
    // Hidden until the reading has lasted `QUIET_START`.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(style(SPINNER_TEMPLATE, false));
    bar.set_prefix(reading.what);
    let mut shown = false;
    loop {
        let finished = done.load(Ordering::Relaxed);
        let now = counts();
        if now.files_total > 0 && bar.length() != Some(now.files_total) {
            bar.set_length(now.files_total);
            bar.set_style(style(BAR_TEMPLATE, true));
        }
        bar.set_position(now.files_done);
        bar.set_message(records_message(
            now.records,
            reading.records,
            started.elapsed(),
        ));
        if finished {
            break;
        }
        if !shown && started.elapsed() >= QUIET_START {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(100));
            shown = true;
        }
        std::thread::sleep(TICK);
    }
    if shown {
        // The final state stays on screen, as the last plain line does.
        bar.finish();
    }
}

/// `12,345 events, 4,100/s`.
fn records_message(records: u64, unit: &str, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        (records as f64 / seconds) as u64
    } else {
        0
    };
    format!("{} {unit}, {}/s", HumanCount(records), HumanCount(rate))
}

/// Progress of a collection, one step at a time (an account, a subscription, a scope's
/// role assignments): a spinner (or a bar when the number of steps is known) on a terminal,
/// one line per step otherwise.
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
pub(super) struct Steps {
    display: Display,
    /// Put before each line in [`Display::Lines`] (`collecting `, `gcp: `); `None` prints no
    /// lines (what `collect aws` has always done).
    line_prefix: Option<&'static str>,
    bar: ProgressBar,
    started: AtomicU64,
}

#[cfg_attr(not(feature = "aws"), allow(dead_code))]
impl Steps {
    /// Steps shown on stderr; `total` is the number of steps when known beforehand.
    pub(super) fn new(
        quiet: bool,
        bar_prefix: &'static str,
        line_prefix: Option<&'static str>,
        total: Option<u64>,
    ) -> Self {
        Self::with_display(Display::for_stderr(quiet), bar_prefix, line_prefix, total)
    }

    fn with_display(
        display: Display,
        bar_prefix: &'static str,
        line_prefix: Option<&'static str>,
        total: Option<u64>,
    ) -> Self {
        let bar = if display == Display::Bar {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            match total {
                Some(_) => bar.set_style(style(STEP_BAR_TEMPLATE, true)),
                None => bar.set_style(style(STEP_TEMPLATE, false)),
            }
            bar.set_prefix(bar_prefix);
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        } else {
            ProgressBar::hidden()
        };
        Steps {
            display,
            line_prefix,
            bar,
            started: AtomicU64::new(0),
        }
    }

    /// The step named `line` starts (the one before it, if any, is done).
    pub(super) fn step(&self, line: &str) {
        match self.display {
            Display::Hidden => {}
            Display::Lines => {
                if let Some(prefix) = self.line_prefix {
                    eprintln!("{prefix}{line}");
                }
            }
            Display::Bar => {
                if self.started.fetch_add(1, Ordering::Relaxed) > 0 {
                    self.bar.inc(1);
                }
                self.bar.set_message(line.to_owned());
            }
        }
    }

    /// Steps done so far, as the bar shows them (for tests).
    #[cfg(test)]
    fn position(&self) -> u64 {
        self.bar.position()
    }
}

impl Drop for Steps {
    /// Clears the spinner so that what is printed next starts on a clean line.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hides_progress_on_a_terminal_and_off_it() {
        assert_eq!(Display::choose(true, true), Display::Hidden);
        assert_eq!(Display::choose(true, false), Display::Hidden);
    }

    #[test]
    fn a_terminal_gets_a_bar_and_a_pipe_gets_plain_lines() {
        assert_eq!(Display::choose(false, true), Display::Bar);
        assert_eq!(Display::choose(false, false), Display::Lines);
    }

    #[test]
    fn plain_line_keeps_the_format_scripts_read() {
        let reading = Reading {
            what: "reading CloudTrail",
            records: "events",
        };
        let counts = Counts {
            files_done: 3,
            files_total: 10,
            records: 200,
        };
        assert_eq!(
            reading.line(counts),
            "reading CloudTrail: 3/10 files, 200 events"
        );
    }

    #[test]
    fn every_template_parses() {
        for template in [
            SPINNER_TEMPLATE,
            BAR_TEMPLATE,
            STEP_TEMPLATE,
            STEP_BAR_TEMPLATE,
        ] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn records_message_gives_count_and_rate() {
        assert_eq!(
            records_message(12_000, "events", Duration::from_secs(4)),
            "12,000 events, 3,000/s"
        );
        assert_eq!(
            records_message(5, "entries", Duration::ZERO),
            "5 entries, 0/s"
        );
    }

    #[test]
    fn while_reading_returns_the_work_result_and_ends_the_watcher() {
        let result = while_reading(
            Reading {
                what: "reading",
                records: "records",
            },
            false,
            Counts::default,
            || 42,
        );
        assert_eq!(result, 42);
    }

    #[test]
    fn a_panicking_reading_does_not_hang_the_watcher() {
        let outcome = std::panic::catch_unwind(|| {
            while_reading(
                Reading {
                    what: "reading",
                    records: "records",
                },
                false,
                Counts::default,
                || panic!("boom"),
            )
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn a_step_marks_the_one_before_it_done() {
        let steps = Steps::with_display(Display::Bar, "collecting ", None, Some(3));
        steps.step("account 1");
        assert_eq!(steps.position(), 0);
        steps.step("account 2");
        steps.step("account 3");
        assert_eq!(steps.position(), 2);
    }
}
