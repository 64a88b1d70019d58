-- Cycles each wrk thread through the request paths listed, one a line, in
-- the file named by BENCH_PATHS, so that a run spreads over several
-- products, queries or renditions instead of one hot URL.
local paths = {}
local n = 0
local threads = 0

function setup(thread)
	thread:set("id", threads)
	threads = threads + 1
end

function init(args)
	local f = assert(io.open(os.getenv("BENCH_PATHS"), "r"))
	for line in f:lines() do
		if #line > 0 then
			paths[#paths + 1] = line
		end
	end
	f:close()
	-- threads start at different places in the list
	n = (id or 0) * 7919
end

function request()
	n = n + 1
	return wrk.format("GET", paths[(n % #paths) + 1])
end
