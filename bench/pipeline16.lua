-- wrk script: HTTP/1.1 pipelining, 16 requests per write.
-- Each connection sends 16 GETs of the same path back to back and waits for
-- the 16 responses before the next batch; wrk counts every response.
--   wrk -s bench/pipeline16.lua http://127.0.0.1:PORT/ping
-- The depth can be changed with an argument after "--": ... -- 32
local depth = 16

init = function(args)
  if args[1] then depth = tonumber(args[1]) end
  local batch = {}
  for i = 1, depth do
    batch[i] = wrk.format(nil)
  end
  pipelined = table.concat(batch)
end

request = function()
  return pipelined
end
