//! Running upstream code (typify, progenitor) that may panic on inputs it does not expect, with
//! the panic turned into a message that says where it happened and nothing printed.
//!
//! A panic hook is process-wide, so it is installed once and stays: it stays silent only on a
//! thread that is inside [`catch`] at that moment and hands every other panic to the hook that
//! was there before (the default one prints it as usual).

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside [`catch`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// The last panic [`catch`] silenced on this thread: message and location.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                return previous(info);
            }
            let message = payload_message(info.payload());
            let location = info.location().map(|l| {
                // `…/registry/src/index…/progenitor-impl-0.15.1/src/method.rs` → the crate's part.
                let parts: Vec<&str> = l.file().rsplit(['/', '\\']).take(3).collect();
                let file: Vec<&str> = parts.into_iter().rev().collect();
                format!("{}:{}", file.join("/"), l.line())
            });
            let text = match location {
                Some(at) => format!("{message} (panic at {at})"),
                None => message,
            };
            LAST.with(|last| *last.borrow_mut() = Some(text));
        }));
    });
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs `f`; a panic inside becomes `Err` with its message and location, printed nowhere.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install();
    let was = QUIET.with(|q| q.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.map_err(|payload| {
        LAST.with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| payload_message(payload.as_ref()))
    })
}
