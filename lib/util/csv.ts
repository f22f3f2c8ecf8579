// RFC 4180 CSV records (quoted fields, doubled quotes, CRLF or LF), each with the line it starts on, for the
// manifests of `scan` and `eval`. Blank lines are skipped; a quote opens a quoted field after leading spaces.

export interface CsvRecord {
    /** 1-based line where the record starts (a quoted field may span lines). */
    line: number;
    fields: string[];
}

export function parseCsv(text: string): CsvRecord[] {
    const records: CsvRecord[] = [];
    let fields: string[] = [];
    let field = '';
    let quoted = false;
    let line = 1;
    let start = 1;
    const endRecord = () => {
        fields.push(field);
        field = '';
        if (fields.length > 1 || fields[0].trim() !== '') records.push({ line: start, fields });
        fields = [];
    };
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') {
                field += '"';
                i++;
            } else if (c === '"') quoted = false;
            else {
                if (c === '\n') line++;
                field += c;
            }
        } else if (c === '"' && field.trim() === '') {
            quoted = true;
            field = '';
        } else if (c === ',') {
            fields.push(field);
            field = '';
        } else if (c === '\n' || c === '\r') {
            if (c === '\r' && text[i + 1] === '\n') i++;
            endRecord();
            line++;
            start = line;
        } else field += c;
    }
    endRecord();
    return records;
}

/** Drops a UTF-8 byte-order mark (spreadsheet exports start with one). */
export const stripBom = (text: string): string => text.replace(/^\ufeff/, '');
