//! One test binary for every end-to-end test (ripgrep style): each module is one story.

mod big_org;
mod chain;
mod complete;
mod console;
mod dispatch;
mod eks;
mod emulator;
mod env;
mod faults;
mod hook;
mod interop;
mod login;
mod login_all;
mod login_prompt;
mod ls;
mod offline;
mod picker;
mod server;
mod sessions;
mod shell_use;
mod sts_emulator;
mod typos;
