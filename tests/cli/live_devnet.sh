# Sourced by the CLI tests that run against a live devnet, after they set gongshe, work and port:
# starts a 4-validator devnet in $work/net (stopped when the test exits), waits until node 0's API
# answers, and defines node (that API's URL), keys (node 0's key folder) and field.
rm -rf "$work"
mkdir -p "$work"
node=http://127.0.0.1:$((port + 1))
keys=$work/net/node0/keys

"$gongshe" devnet --nodes 4 --base-port "$port" --dir "$work/net" >"$work/devnet.log" 2>&1 &
devnet=$!
trap 'kill "$devnet" 2>/dev/null; wait "$devnet" 2>/dev/null || true' EXIT

field() {  # the value of a top-level JSON field (a number, or a number in a string)
  sed -n "s/.*\"$1\":\"\\{0,1\\}\\([0-9]*\\).*/\\1/p"
}

for _ in $(seq 150); do
  "$gongshe" query status --node "$node" >/dev/null 2>&1 && break
  sleep 0.2
done
