# HTTP/1.0 GET over bash's /dev/tcp (no client needed): http_get HOST PORT PATH prints the
# whole response (status line, headers, body); status 1 when nothing could be read.
http_get() {
    local host=$1 port=$2 path=$3
    { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\n\r\n' "$path" "$host" "$port" >&3
    timeout 10 cat <&3
    local rc=$?
    exec 3<&-
    return $rc
}

# The status code of a response read by http_get.
http_status() {
    head -1 | awk '{print $2}'
}
