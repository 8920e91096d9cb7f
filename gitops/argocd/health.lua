-- Argo CD health of anthill.io resources (MarketFeed, MarketStream, MedallionPipeline, DatabricksConnection), from the
-- Crossplane-style conditions the operator writes: Ready (the child exists and matches) and Synced (the
-- last reconcile reached the API). argocd-values.yaml embeds this file once per kind; a test keeps them equal.
local PENDING = {Creating = true, Pending = true}

local hs = {status = "Progressing", message = "Waiting for the operator to report Ready and Synced"}

local annotations = obj.metadata.annotations or {}
if (obj.spec ~= nil and obj.spec.suspend == true) or annotations["anthill.io/paused"] == "true" then
  hs.status = "Suspended"
  hs.message = obj.spec ~= nil and obj.spec.suspend == true and "spec.suspend is true"
    or "Paused by the anthill.io/paused annotation"
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local ready, synced
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then
    ready = condition
  elseif condition.type == "Synced" then
    synced = condition
  end
end

local function describe(condition)
  return condition.type .. "=" .. condition.status .. " (" .. (condition.reason or "") .. "): "
    .. (condition.message or "")
end

if ready ~= nil and ready.status == "False" and not PENDING[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end

if ready ~= nil and ready.status == "True" and synced ~= nil and synced.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end

if synced ~= nil and synced.status ~= "True" then
  hs.message = describe(synced)
elseif ready ~= nil then
  hs.message = describe(ready)
end
return hs
