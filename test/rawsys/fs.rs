// fs.rs DIR - Rust's std::fs on DIR, for test_rawsys: one line per call,
// DIR shown as "D", so that a disk directory and a scheme directory can
// be compared line by line.  Rust's std makes some calls by number
// (statx through libc's syscall() where it must), others through libc.
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn show<T: std::fmt::Debug>(d: &str, name: &str, r: std::io::Result<T>) {
    match r {
        Ok(v) => println!("{} {}", name, format!("{:?}", v).replace(d, "D")),
        Err(e) => println!("{} error {:?}", name, e.kind()),
    }
}

fn main() {
    let d = std::env::args().nth(1).expect("DIR");
    let p = |s: &str| format!("{}/{}", d, s);
    show(&d, "create_dir", fs::create_dir(p("rs")));
    show(&d, "write", fs::write(p("rs/f"), b"hello rust\n"));
    show(&d, "metadata", fs::metadata(p("rs/f")).map(|m| (m.len(), m.is_file(), m.is_dir())));
    show(&d, "metadata missing", fs::metadata(p("rs/nope")).map(|m| m.len()));
    show(&d, "symlink_metadata dir", fs::symlink_metadata(p("rs")).map(|m| m.is_dir()));
    show(&d, "read_to_string", fs::read_to_string(p("rs/f")));
    show(&d, "set_permissions", fs::set_permissions(p("rs/f"), fs::Permissions::from_mode(0o640))
        .and_then(|_| fs::metadata(p("rs/f"))).map(|m| format!("{:o}", m.mode() & 0o7777)));
    show(&d, "copy", fs::copy(p("rs/f"), p("rs/c")));
    show(&d, "append and seek", (|| {
        let mut f = fs::OpenOptions::new().append(true).read(true).open(p("rs/c"))?;
        f.write_all(b"more\n")?;
        f.seek(SeekFrom::Start(6))?;
        let mut s = String::new();
        f.read_to_string(&mut s)?;
        Ok(s)
    })());
    show(&d, "read_dir", fs::read_dir(p("rs")).map(|it| {
        let mut v: Vec<String> = it
            .map(|e| {
                let e = e.unwrap();
                let t = e.file_type().unwrap();
                format!("{}:{}", e.file_name().to_string_lossy(),
                        if t.is_file() { "file" } else if t.is_dir() { "dir" } else { "other" })
            })
            .collect();
        v.sort();
        v.join(" ")
    }));
    show(&d, "rename", fs::rename(p("rs/c"), p("rs/r")).map(|_| (fs::metadata(p("rs/c")).is_ok(), fs::metadata(p("rs/r")).is_ok())));
    show(&d, "canonicalize", fs::canonicalize(p("rs/f")).map(|c| c.ends_with("rs/f")));
    show(&d, "remove_file", fs::remove_file(p("rs/r")));
    show(&d, "remove_dir_all", fs::remove_dir_all(p("rs")).map(|_| fs::metadata(p("rs")).is_ok()));
}
