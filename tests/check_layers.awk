# check_layers.awk - the work of check_layers.sh (read that first).
# Input: "F PATH" per file, then "I PATH:LINE:TEXT" per quoted include.
# Variables: mode (check or graph), rules_path (the rules file to read),
# rules (its name in messages).

function complain(msg) {
    print "check_layers: " msg > "/dev/stderr"
    failed++
}

function dirname(p) {
    if (!sub(/\/[^\/]*$/, "", p))
        return "."
    return p
}

function stem(p) {
    sub(/.*\//, "", p)
    sub(/\.[ch]$/, "", p)
    return p
}

# a/b/../c -> a/c, ./x -> x
function normalize(p,    n, i, k, res) {
    n = split(p, part_, "/")
    k = 0
    for (i = 1; i <= n; i++) {
        if (part_[i] == "." || part_[i] == "")
            continue
        if (part_[i] == ".." && k > 0 && norm_[k] != "..") {
            k--
            continue
        }
        norm_[++k] = part_[i]
    }
    res = norm_[1]
    for (i = 2; i <= k; i++)
        res = res "/" norm_[i]
    return res
}

# The file a quoted include names, searched as the compiler does: the
# including file's folder, then the include paths of its target.
function resolve(from, name,    c) {
    c = normalize(dirname(from) "/" name)
    if (c in isfile)
        return c
    # core/src is also a private include path of the report library
    # (util/text.h)
    if (from ~ /^core\/(src|report)\//) {
        c = normalize("core/src/" name)
        if (c in isfile)
            return c
    }
    if (from ~ /^core\/cli\//) {
        c = normalize("core/cli/" name)
        if (c in isfile)
            return c
    }
    # the report library's folder is a public include path of its target,
    # which the nascaps program links
    if (from ~ /^core\/(cli|report)\//) {
        c = normalize("core/report/" name)
        if (c in isfile)
            return c
    }
    c = normalize("core/include/" name)
    if (c in isfile)
        return c
    return ""
}

# does rules path r (a file, or a folder ending in /) cover file f?
function covers(r, f) {
    if (r ~ /\/$/)
        return substr(f, 1, length(r)) == r
    return r == f
}

# the floor of f: that of the longest rules path covering it, 0 for none
function floor_of(f,    i, best, blen) {
    best = 0
    blen = -1
    for (i = 1; i <= npaths; i++)
        if (covers(path[i], f) && length(path[i]) > blen) {
            best = path_floor[i]
            blen = length(path[i])
        }
    return best
}

function read_rules(    line, n, w, i, fl, ln) {
    ln = 0
    while ((getline line < rules_path) > 0) {
        ln++
        sub(/#.*/, "", line)
        n = split(line, w)   # default FS: blanks, leading and trailing ones dropped
        if (n == 0)
            continue
        if (w[1] == "floor" && n >= 3) {
            if (!(w[2] in floor_index)) {
                floor_index[w[2]] = ++nfloors
                floor_name[nfloors] = w[2]
            }
            fl = floor_index[w[2]]
            for (i = 3; i <= n; i++) {
                npaths++
                path[npaths] = w[i]
                path_floor[npaths] = fl
                path_line[npaths] = ln
            }
        } else if (w[1] == "allow" && n == 3) {
            nallow++
            allow_key[nallow] = w[2] SUBSEP w[3]
            allow_line[nallow] = ln
            allowed[w[2] SUBSEP w[3]] = nallow
        } else if (w[1] == "implements" && n >= 3) {
            for (i = 3; i <= n; i++) {
                nimpl++
                impl_header[nimpl] = w[2]
                impl_source[nimpl] = w[i]
                impl_line[nimpl] = ln
            }
        } else {
            complain(rules ":" ln ": expected 'floor NAME PATH...', 'allow FILE HEADER' or " \
                     "'implements HEADER SOURCE...', found '" line "'")
        }
    }
    close(rules_path)
    if (!nfloors)
        complain(rules ": no floor lines")
}

BEGIN {
    read_rules()
}

$1 == "F" {
    nfiles++
    file[nfiles] = $2
    isfile[$2] = 1
    next
}

$1 == "I" {
    rest = substr($0, 3)
    # PATH:LINE:TEXT; paths of this tree hold no ':'
    p = index(rest, ":")
    from = substr(rest, 1, p - 1)
    rest = substr(rest, p + 1)
    p = index(rest, ":")
    lineno = substr(rest, 1, p - 1)
    text = substr(rest, p + 1)
    sub(/^[^"]*"/, "", text)
    sub(/".*/, "", text)
    to = resolve(from, text)
    if (to == "") {
        complain(from ":" lineno ": #include \"" text "\" is not a file of the tree")
        next
    }
    ninc++
    inc_from[ninc] = from
    inc_to[ninc] = to
    inc_line[ninc] = lineno
    next
}

function check(    i, j, f, a, b, key, used) {
    for (i = 1; i <= npaths; i++) {
        used = 0
        for (j = 1; j <= nfiles && !used; j++)
            used = covers(path[i], file[j])
        if (!used)
            complain(rules ":" path_line[i] ": '" path[i] "' is no file or folder of the tree")
    }
    for (i = 1; i <= nfiles; i++) {
        floor_at[file[i]] = floor_of(file[i])
        if (!floor_at[file[i]])
            complain(file[i] ": on no floor of " rules " (add it to the floor of its module)")
    }
    for (i = 1; i <= ninc; i++) {
        f = inc_from[i]
        a = floor_at[f]
        b = floor_at[inc_to[i]]
        if (!a || !b || b <= a)
            continue
        key = f SUBSEP inc_to[i]
        if (key in allowed) {
            needed[allowed[key]] = 1
            continue
        }
        complain(f ":" inc_line[i] ": includes " inc_to[i] " of floor '" floor_name[b] \
                 "', above its own floor '" floor_name[a] "' (" rules ")")
    }
    for (i = 1; i <= nallow; i++)
        if (!(i in needed)) {
            split(allow_key[i], w_, SUBSEP)
            complain(rules ":" allow_line[i] ": 'allow " w_[1] " " w_[2] \
                     "' is no upward include any more: delete the line")
        }
    if (!failed)
        printf "check_layers: %d files, %d includes, %d floors, %d allowed exceptions: ok\n",
               nfiles, ninc, nfloors, nallow
}

# ---- graph mode ---------------------------------------------------------

function in_graph(f) {
    return f ~ /^core\/src\// || f ~ /^core\/include\/nascaps\//
}

function add_edge(a, b, why) {
    if (a == b || ((a, b) in has_edge))
        return
    has_edge[a, b] = 1
    nout[a]++
    out[a, nout[a]] = b
    printf "edge %s -> %s (%s)\n", a, b, why
}

# Tarjan's strongly connected components
function strong(v,    i, w) {
    order[v] = low[v] = ++counter
    stack[++sp] = v
    onstack[v] = 1
    for (i = 1; i <= nout[v]; i++) {
        w = out[v, i]
        if (!(w in order)) {
            strong(w)
            if (low[w] < low[v])
                low[v] = low[w]
        } else if (onstack[w] && order[w] < low[v]) {
            low[v] = order[w]
        }
    }
    if (low[v] == order[v]) {
        ncomp++
        do {
            w = stack[sp--]
            onstack[w] = 0
            comp[w] = ncomp
            comp_size[ncomp]++
            comp_members[ncomp] = comp_members[ncomp] " " w
        } while (w != v)
    }
}

# longest simple cycle through start s among nodes ordered after s
function cycles(s, v, depth,    i, w) {
    if (++steps > MAX_STEPS) {
        capped = 1
        return
    }
    onpath[v] = 1
    pathv[depth] = v
    for (i = 1; i <= nout[v]; i++) {
        w = out[v, i]
        if (comp[w] != comp[s])
            continue
        if (w == s) {
            if (depth > best_len) {
                best_len = depth
                best_path = ""
                for (j_ = 1; j_ <= depth; j_++)
                    best_path = best_path pathv[j_] " -> "
                best_path = best_path s
            }
        } else if (!onpath[w] && order[w] > order[s]) {
            cycles(s, w, depth + 1)
        }
    }
    onpath[v] = 0
}

function graph(    i, j, f, h, c, n, big) {
    MAX_STEPS = 20000000
    for (i = 1; i <= ninc; i++)
        if (in_graph(inc_from[i]) && in_graph(inc_to[i]))
            add_edge(inc_from[i], inc_to[i], "includes")
    # a header leads to the files implementing it
    for (i = 1; i <= nfiles; i++) {
        h = file[i]
        if (!in_graph(h) || h !~ /\.h$/)
            continue
        # X.h beside X.c; a public nascaps/X.h: core/src/X.c, else any
        # core/src/DIR/X.c (data.h -> data/data.c), never both
        top = "core/src/" stem(h) ".c"
        for (j = 1; j <= nfiles; j++) {
            if (file[j] !~ /^core\/src\/.*\.c$/ || stem(file[j]) != stem(h))
                continue
            if (h ~ /^core\/src\// && dirname(file[j]) != dirname(h))
                continue
            if (h !~ /^core\/src\// && (top in isfile) && file[j] != top)
                continue
            add_edge(h, file[j], "implemented by")
        }
    }
    for (i = 1; i <= nimpl; i++) {
        n = 0
        for (j = 1; j <= nfiles; j++)
            if (file[j] ~ /\.c$/ && covers(impl_source[i], file[j])) {
                add_edge(impl_header[i], file[j], "implemented by")
                n++
            }
        if (!n || !(impl_header[i] in isfile))
            complain(rules ":" impl_line[i] ": implements " impl_header[i] " " \
                     impl_source[i] ": no such header or source")
    }
    for (i = 1; i <= nfiles; i++)
        if (in_graph(file[i]) && !(file[i] in order))
            strong(file[i])
    big = 0
    longest = 0
    for (c = 1; c <= ncomp; c++) {
        if (comp_size[c] < 2)
            continue
        big++
        printf "scc %d: %d files:%s\n", big, comp_size[c], comp_members[c]
        best_len = 0
        best_path = ""
        capped = 0
        steps = 0
        for (i = 1; i <= nfiles; i++)
            if ((file[i] in comp) && comp[file[i]] == c)
                cycles(file[i], file[i], 1)
        printf "scc %d: longest cycle %d files%s: %s\n", big, best_len,
               capped ? " (search capped: at least)" : "", best_path
        if (best_len > longest)
            longest = best_len
    }
    printf "sccs_over_1_file %d\nlongest_cycle_files %d\n", big, longest
}

END {
    if (mode == "graph")
        graph()
    else
        check()
    exit failed ? 1 : 0
}
