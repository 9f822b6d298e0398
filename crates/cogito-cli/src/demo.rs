//! `cogito demo`: the embedded default job (filled in with the testkit vectors).

use clap::Args;

#[derive(Args, Debug)]
pub struct DemoArgs {}

pub fn run(_args: &DemoArgs) -> i32 {
    println!("demo: not yet available");
    0
}
