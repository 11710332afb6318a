-- The overtime-pay law (contracts/laws/overtime_pay.law, version 2) written in Lua 5.4, for
-- bench/law_bench.py: the same logic and the same exact arithmetic as the law language
-- (integers in the language's units, products rounded half away from zero, overflow an error),
-- the same reason text. No fuel: Lua has none.
--
--   lua5.4 bench/lua/overtime_pay.lua INPUT_FILE [repetitions=5] [dump=0]
--
-- INPUT_FILE: one week closure per line, "worker_hex week worked_minutes rate_milli_per_hour".
-- The file is read before timing; each repetition times the whole loop with os.clock() (process
-- CPU time). Prints one JSON object: the median time, the totals of what was issued, and the
-- first `dump` effects when asked.

local law = {}

local MINUTES_PER_HOUR = 60
local RATIO_SCALE = 1000000
local standard_week = 40 * MINUTES_PER_HOUR -- hours, held in minutes
local premium = 1500000                      -- ratio, held in millionths
local citation = "overtime_pay v2 \u{a7}2"

local function checked_sub(a, b)
  local r = a - b
  if (b > 0 and r > a) or (b < 0 and r < a) then error("LAW_OVERFLOW") end
  return r
end

-- round(a * b / divisor), halves away from zero; divisor > 0.
local function mul_div(a, b, divisor)
  local p = a * b
  if a ~= 0 and (p // a ~= b or (a == -1 and b == math.mininteger)) then error("LAW_OVERFLOW") end
  local negative = p < 0
  if negative then p = -p end
  local q, r = p // divisor, p % divisor
  if 2 * r >= divisor then q = q + 1 end
  if negative then return -q end
  return q
end

-- "5h", "20min", "1h30min", as the language writes hours.
local function format_hours(minutes)
  local sign = ""
  if minutes < 0 then sign, minutes = "-", -minutes end
  local h, m = minutes // 60, minutes % 60
  local out = sign
  if h > 0 or m == 0 then out = out .. h .. "h" end
  if m > 0 then out = out .. m .. "min" end
  return out
end

-- "1.5" from 1500000 at scale 1000000: the shortest exact decimal.
local function format_scaled(v, scale)
  local sign = ""
  if v < 0 then sign, v = "-", -v end
  local whole, frac = v // scale, v % scale
  if frac == 0 then return sign .. whole end
  local digits = string.format("%0" .. (#tostring(scale) - 1) .. "d", frac):gsub("0+$", "")
  return sign .. whole .. "." .. digits
end

-- on week_closed(worker: member, week: week, worked: hours, rate: credits per hour)
-- Returns the effects (a list) or nil when the law does nothing.
function law.week_closed(worker, week, worked, rate)
  local overtime = math.max(checked_sub(worked, standard_week), 0)
  if overtime > 0 then
    local credits = mul_div(overtime, rate, MINUTES_PER_HOUR)                -- milli-credits
    local amount = mul_div(credits, checked_sub(premium, RATIO_SCALE), RATIO_SCALE)
    if amount <= 0 then error("LAW_BAD_EFFECT") end
    local reason = "overtime " .. format_hours(overtime) .. " at " .. format_scaled(premium, RATIO_SCALE) ..
                   "x in week " .. week
    return { { kind = "issue", class = "consumption", member = worker, amount = amount, reason = reason,
               citation = citation } }
  end
  return nil
end

local function read_closures(path)
  local interned = {}
  local workers, weeks, minutes, rates = {}, {}, {}, {}
  local n = 0
  for line in io.lines(path) do
    local w, wk, m, r = line:match("^(%x+) (%d+) (%d+) (%d+)$")
    if not w then error("bad line " .. (n + 1) .. " in " .. path) end
    n = n + 1
    local id = interned[w]
    if not id then id = w; interned[w] = w end
    workers[n], weeks[n], minutes[n], rates[n] = id, math.tointeger(tonumber(wk)), math.tointeger(tonumber(m)),
                                                 math.tointeger(tonumber(r))
  end
  return n, workers, weeks, minutes, rates
end

local function main(path, reps, dump)
  local n, workers, weeks, minutes, rates = read_closures(path)
  local week_closed = law.week_closed
  local times = {}
  local issues, amount_milli, reason_bytes
  for rep = 1, reps do
    local i_count, a_total, r_total = 0, 0, 0
    local t0 = os.clock()
    for i = 1, n do
      local effects = week_closed(workers[i], weeks[i], minutes[i], rates[i])
      if effects then
        for _, e in ipairs(effects) do
          i_count = i_count + 1
          a_total = a_total + e.amount
          r_total = r_total + #e.reason
        end
      end
    end
    times[rep] = os.clock() - t0
    if rep > 1 and (i_count ~= issues or a_total ~= amount_milli or r_total ~= reason_bytes) then
      error("repetition " .. rep .. " gave different totals")
    end
    issues, amount_milli, reason_bytes = i_count, a_total, r_total
  end
  table.sort(times)
  local median = reps % 2 == 1 and times[(reps + 1) // 2] or (times[reps // 2] + times[reps // 2 + 1]) / 2
  local out = string.format('{"closures":%d,"repetitions":%d,"issues":%d,"amount_milli":%d,"reason_bytes":%d,' ..
                            '"cpu_s":%.4f,"closures_per_cpu_s":%.0f', n, reps, issues, amount_milli, reason_bytes,
                            median, n / median)
  if dump > 0 then
    local lines = {}
    for i = 1, math.min(dump, n) do
      local effects = week_closed(workers[i], weeks[i], minutes[i], rates[i])
      local line = "-"
      if effects then line = effects[1].member .. " " .. effects[1].amount .. " " .. effects[1].reason end
      lines[i] = '"' .. line .. '"'
    end
    out = out .. ',"dump":[' .. table.concat(lines, ",") .. "]"
  end
  print(out .. "}")
end

if arg and arg[1] then
  main(arg[1], math.tointeger(tonumber(arg[2] or "5")) or 5, math.tointeger(tonumber(arg[3] or "0")) or 0)
end

return law
