//! PDF documents drawn with `pdf-writer`: A4 pages, the standard Helvetica and Courier fonts
//! (nothing embedded, nothing fetched at render time), text in WinAnsi so that `pdftotext`
//! extracts it, and filled rectangles for charts. [`Doc`] is the small layout layer the
//! certificate (and, later, reports) draw with.

pub mod certificate;
pub mod inventory;
pub mod report;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

pub const A4: (f32, f32) = (595.0, 842.0);
pub const MARGIN: f32 = 56.0;

/// Fonts available to every page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
    Mono,
}

impl Font {
    fn name(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
            Font::Mono => Name(b"F3"),
        }
    }
}

/// Text as WinAnsi bytes: ASCII and Latin-1 pass, common typography is transliterated, the
/// rest becomes `?` (standard fonts have no other glyphs).
pub fn winansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{20}'..='\u{7e}' => out.push(c as u8),
            '\u{a0}'..='\u{ff}' => out.push(c as u32 as u8),
            '–' => out.push(0x96),
            '—' => out.push(0x97),
            '’' => out.push(0x92),
            '“' => out.push(0x93),
            '”' => out.push(0x94),
            '•' => out.push(0x95),
            '€' => out.push(0x80),
            '₂' => out.push(b'2'),
            '→' => out.extend_from_slice(b"->"),
            '≤' => out.extend_from_slice(b"<="),
            '≥' => out.extend_from_slice(b">="),
            '‖' => out.extend_from_slice(b"||"),
            _ => out.push(b'?'),
        }
    }
    out
}

/// Approximate width of text in points (Helvetica averages ~0.52 em; Courier is 0.6 em).
pub fn text_width(text: &str, font: Font, size: f32) -> f32 {
    let em = match font {
        Font::Mono => 0.6,
        _ => 0.52,
    };
    text.chars().count() as f32 * size * em
}

/// Break text into lines no wider than `width`.
pub fn wrap(text: &str, font: Font, size: f32, width: f32) -> Vec<String> {
    let per_line = ((width / text_width("x", font, size)).floor() as usize).max(8);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        // Words longer than a line (hashes, URLs) are cut.
        while word.chars().count() > per_line {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let cut: String = word.chars().take(per_line).collect();
            word = word.chars().skip(per_line).collect();
            lines.push(cut);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A multi-page A4 document under construction.
pub struct Doc {
    pages: Vec<Content>,
    /// Files embedded in the PDF (`/EmbeddedFiles`): name, media type, bytes.
    attachments: Vec<(String, &'static str, Vec<u8>)>,
    /// Next baseline on the current page (from the bottom).
    pub y: f32,
    title: String,
}

impl Doc {
    pub fn new(title: &str) -> Doc {
        Doc {
            pages: vec![Content::new()],
            attachments: Vec::new(),
            y: A4.1 - MARGIN,
            title: title.to_string(),
        }
    }

    fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a document has a page")
    }

    /// Start a new page if fewer than `needed` points are left.
    pub fn ensure(&mut self, needed: f32) {
        if self.y - needed < MARGIN {
            self.pages.push(Content::new());
            self.y = A4.1 - MARGIN;
        }
    }

    /// Text at an absolute position.
    pub fn text_at(&mut self, x: f32, y: f32, font: Font, size: f32, text: &str) {
        let bytes = winansi(text);
        let c = self.page();
        c.begin_text();
        c.set_font(font.name(), size);
        c.next_line(x, y);
        c.show(Str(&bytes));
        c.end_text();
    }

    /// A line of text at the left margin (plus `indent`), moving down.
    pub fn line(&mut self, font: Font, size: f32, indent: f32, text: &str) {
        self.ensure(size * 1.4);
        let y = self.y;
        self.text_at(MARGIN + indent, y, font, size, text);
        self.y -= size * 1.4;
    }

    /// Wrapped paragraph at the left margin.
    pub fn paragraph(&mut self, font: Font, size: f32, text: &str) {
        for l in wrap(text, font, size, A4.0 - 2.0 * MARGIN) {
            self.line(font, size, 0.0, &l);
        }
    }

    /// A label and a value on one line (the value at a fixed column).
    pub fn field(&mut self, label: &str, value: &str) {
        self.ensure(14.0);
        let y = self.y;
        self.text_at(MARGIN, y, Font::Bold, 10.0, label);
        let lines = wrap(value, Font::Regular, 10.0, A4.0 - 2.0 * MARGIN - 140.0);
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                self.y -= 13.0;
                self.ensure(14.0);
            }
            let y = self.y;
            self.text_at(MARGIN + 140.0, y, Font::Regular, 10.0, l);
        }
        self.y -= 14.0;
    }

    /// A filled rectangle (x, y from the bottom left) in an RGB colour.
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, rgb: (f32, f32, f32)) {
        let c = self.page();
        c.save_state();
        c.set_fill_rgb(rgb.0, rgb.1, rgb.2);
        c.rect(x, y, w, h);
        c.fill_nonzero();
        c.restore_state();
    }

    /// Embed a file in the PDF (listed under `/EmbeddedFiles`, as readers show attachments).
    pub fn attach(&mut self, name: &str, media_type: &'static str, bytes: Vec<u8>) {
        self.attachments.push((name.to_string(), media_type, bytes));
    }

    /// A QR code of `text`, `size` points square, its lower-left corner at (x, y) on the
    /// current page: one filled square per dark module, so it stays sharp at any zoom.
    pub fn qr(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
            return; // longer than a QR code holds: the URL is printed anyway
        };
        let n = code.width();
        let quiet = 2.0; // modules of white margin on each side
        let module = size / (n as f32 + 2.0 * quiet);
        let colors = code.to_colors();
        let c = self.page();
        c.save_state();
        c.set_fill_rgb(0.0, 0.0, 0.0);
        // One rectangle per horizontal run of dark modules (a third of the operators).
        for (row, line) in colors.chunks(n).enumerate() {
            let mut col = 0;
            while col < n {
                if line[col] != qrcode::Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && line[col] == qrcode::Color::Dark {
                    col += 1;
                }
                c.rect(
                    x + (quiet + start as f32) * module,
                    y + size - (quiet + row as f32 + 1.0) * module,
                    (col - start) as f32 * module,
                    module,
                );
            }
        }
        c.fill_nonzero();
        c.restore_state();
    }

    /// A horizontal rule across the text width.
    pub fn rule(&mut self) {
        self.ensure(10.0);
        let y = self.y + 6.0;
        self.rect(MARGIN, y, A4.0 - 2.0 * MARGIN, 0.6, (0.7, 0.7, 0.7));
        self.y -= 8.0;
    }

    pub fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    /// The lifecycle stages as one stacked bar across the page, then a legend with each
    /// stage's kg CO2e and share. `stages` are (name, kg) in production, transport, use,
    /// end-of-life order.
    pub fn stage_bar(&mut self, stages: &[(&str, f64); 4]) {
        const COLOURS: [(f32, f32, f32); 4] = [
            (0.16, 0.38, 0.62),
            (0.95, 0.61, 0.07),
            (0.30, 0.65, 0.32),
            (0.55, 0.55, 0.55),
        ];
        let total: f64 = stages.iter().map(|s| s.1.max(0.0)).sum();
        self.ensure(100.0);
        let width = A4.0 - 2.0 * MARGIN;
        let y = self.y - 18.0;
        let mut x = MARGIN;
        for (i, (_, v)) in stages.iter().enumerate() {
            let w = if total > 0.0 {
                (v.max(0.0) / total) as f32 * width
            } else {
                0.0
            };
            self.rect(x, y, w, 18.0, COLOURS[i]);
            x += w;
        }
        self.y = y - 18.0;
        for (i, (name, v)) in stages.iter().enumerate() {
            let y = self.y;
            self.rect(MARGIN, y - 1.0, 9.0, 9.0, COLOURS[i]);
            self.text_at(MARGIN + 16.0, y, Font::Regular, 10.0, name);
            let share = if total > 0.0 { v / total * 100.0 } else { 0.0 };
            self.text_at(
                MARGIN + 140.0,
                y,
                Font::Regular,
                10.0,
                &format!("{v:.2} kg CO2e ({share:.1}%)"),
            );
            self.y -= 14.0;
        }
    }

    /// A horizontal bar chart: one bar per (label, value), scaled to the largest, values
    /// printed at the bar's end, with the axis unit under it.
    pub fn bars(&mut self, rows: &[(String, f64)], unit: &str, rgb: (f32, f32, f32)) {
        let max = rows.iter().map(|r| r.1).fold(0.0f64, f64::max);
        let (label_w, value_w) = (130.0, 90.0);
        let width = A4.0 - 2.0 * MARGIN - label_w - value_w;
        for (label, v) in rows {
            self.ensure(16.0);
            let y = self.y;
            let short: String = label.chars().take(24).collect();
            self.text_at(MARGIN, y, Font::Regular, 9.0, &short);
            let w = if max > 0.0 {
                (v / max) as f32 * width
            } else {
                0.0
            };
            self.rect(MARGIN + label_w, y - 2.0, w.max(0.5), 10.0, rgb);
            self.text_at(
                MARGIN + label_w + w + 4.0,
                y,
                Font::Regular,
                9.0,
                &format!("{v:.1}"),
            );
            self.y -= 15.0;
        }
        self.ensure(14.0);
        let y = self.y;
        self.rect(MARGIN + label_w, y + 10.0, width, 0.5, (0.4, 0.4, 0.4));
        self.text_at(
            MARGIN + label_w,
            y,
            Font::Regular,
            8.0,
            &format!("0 - {max:.0} {unit}"),
        );
        self.y -= 14.0;
    }

    /// A table whose header repeats on every page it spans.
    pub fn table(&mut self, headers: &[&str], widths: &[f32], rows: &[Vec<String>]) {
        let header = |d: &mut Doc| {
            d.ensure(30.0);
            let y = d.y;
            let mut x = MARGIN;
            for (h, w) in headers.iter().zip(widths) {
                d.text_at(x, y, Font::Bold, 8.5, h);
                x += w;
            }
            d.rect(MARGIN, y - 4.0, widths.iter().sum(), 0.5, (0.4, 0.4, 0.4));
            d.y -= 13.0;
        };
        header(self);
        for row in rows {
            if self.y - 12.0 < MARGIN {
                self.ensure(1000.0);
                header(self);
            }
            let y = self.y;
            let mut x = MARGIN;
            for (cell, w) in row.iter().zip(widths) {
                let max_chars = (w / text_width("x", Font::Regular, 8.5)) as usize;
                let cell: String = cell.chars().take(max_chars.saturating_sub(1)).collect();
                self.text_at(x, y, Font::Regular, 8.5, &cell);
                x += w;
            }
            self.y -= 11.5;
        }
    }

    /// The finished PDF, with "page N of M" footers.
    pub fn finish(mut self) -> Vec<u8> {
        let n = self.pages.len();
        for i in 0..n {
            let footer = format!("{} - page {} of {}", self.title, i + 1, n);
            let bytes = winansi(&footer);
            let c = &mut self.pages[i];
            c.begin_text();
            c.set_font(Font::Regular.name(), 8.0);
            c.next_line(MARGIN, 30.0);
            c.show(Str(&bytes));
            c.end_text();
        }
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let fonts = [Ref::new(3), Ref::new(4), Ref::new(5)];
        let info = Ref::new(6);
        let first_page = 7;
        let page_ids: Vec<Ref> = (0..n)
            .map(|i| Ref::new(first_page + 2 * i as i32))
            .collect();
        // Objects after the pages: one file specification and one stream per attachment.
        let first_file = first_page + 2 * n as i32;
        let file_ids: Vec<(Ref, Ref)> = (0..self.attachments.len())
            .map(|i| {
                let spec = Ref::new(first_file + 2 * i as i32);
                (spec, Ref::new(spec.get() + 1))
            })
            .collect();
        {
            let mut cat = pdf.catalog(catalog);
            cat.pages(tree);
            if !file_ids.is_empty() {
                let mut names = cat.names();
                let mut tree = names.embedded_files();
                let mut entries = tree.names();
                for ((name, _, _), (spec, _)) in self.attachments.iter().zip(&file_ids) {
                    entries.insert(Str(name.as_bytes()), *spec);
                }
            }
        }
        for ((name, media, bytes), (spec, stream)) in self.attachments.iter().zip(&file_ids) {
            pdf.file_spec(*spec)
                .path(Str(name.as_bytes()))
                .unic_file(pdf_writer::TextStr(name))
                .description(pdf_writer::TextStr("The signed certificate document"))
                .embedded_file_with_unicode(*stream);
            // pdf-writer escapes the `/` of the media type (`/application#2Fjson`).
            pdf.embedded_file(*stream, bytes)
                .subtype(Name(media.as_bytes()));
        }
        pdf.pages(tree)
            .kids(page_ids.iter().copied())
            .count(n as i32);
        for (font, base) in fonts
            .iter()
            .zip([&b"Helvetica"[..], b"Helvetica-Bold", b"Courier"])
        {
            pdf.type1_font(*font)
                .base_font(Name(base))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        let title = winansi(&self.title);
        pdf.document_info(info)
            .title(pdf_writer::TextStr(&String::from_utf8_lossy(&title)))
            .producer(pdf_writer::TextStr("CarbonTrace"));
        for (i, content) in self.pages.into_iter().enumerate() {
            let page_id = page_ids[i];
            let content_id = Ref::new(page_id.get() + 1);
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, A4.0, A4.1));
            page.parent(tree);
            page.contents(content_id);
            let mut res = page.resources();
            let mut f = res.fonts();
            f.pair(Font::Regular.name(), fonts[0]);
            f.pair(Font::Bold.name(), fonts[1]);
            f.pair(Font::Mono.name(), fonts[2]);
            f.finish();
            res.finish();
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winansi_transliterates() {
        assert_eq!(
            winansi("CO₂e – 5 × 2 → ok"),
            b"CO2e \x96 5 \xd7 2 -> ok".to_vec()
        );
        assert_eq!(winansi("é"), vec![0xe9]);
        assert_eq!(winansi("中"), b"?".to_vec());
    }

    #[test]
    fn wraps_long_words_and_lines() {
        let lines = wrap(&"a".repeat(200), Font::Mono, 10.0, 120.0);
        assert!(lines.len() > 1 && lines.iter().all(|l| l.len() <= 20));
        assert_eq!(
            wrap("one two three", Font::Regular, 10.0, 1000.0),
            vec!["one two three"]
        );
    }

    #[test]
    fn documents_paginate() {
        let mut d = Doc::new("Test");
        for i in 0..120 {
            d.line(Font::Regular, 10.0, 0.0, &format!("line {i}"));
        }
        let pdf = d.finish();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 3"), "three pages");
    }
}
