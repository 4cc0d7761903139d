-- Argo CD health check for clientvpn.io/ClientVpnUser (Lua 5.1, no string library).
--
--   Progressing  no status yet; status.observedGeneration older than metadata.generation;
--                being deleted (the finalizer revokes the certificate first, unless Stalled);
--                Ready not True (e.g. waiting for the endpoint or a Secret, revoking)
--   Suspended    access revoked: status.revoked (the certificate is on the endpoint's active
--                revocation list), or Ready=False with reason Revoked (nothing was issued)
--   Degraded     Stalled=True for the current generation (needs a spec change or help, e.g. the
--                endpoint has no mutual authentication, the common name is taken, the
--                revocation list is full); also while deleting
--   Healthy      Ready=True for the current generation: client.ovpn is in the user's Secret
local hs = {}

local function condition(status, type)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local deleting = obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil
local status = obj.status

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to issue the certificate"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
local observed = status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  if deleting then
    hs.message = "Deleting: waiting for the operator"
  else
    hs.message = "Waiting for the operator to observe generation " .. generation
  end
  return hs
end

local ready = condition(status, "Ready")
local revoked = status.revoked == true
if not revoked and ready ~= nil and ready.status == "False" and ready.reason == "Revoked" then
  revoked = true
end
if revoked then
  hs.status = "Suspended"
  hs.message = "Access revoked: " .. describe(ready, "the certificate is on the endpoint's revocation list")
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  if deleting then
    hs.message = "Deletion stalled: " .. describe(stalled, "the operator cannot revoke the certificate")
  else
    hs.message = describe(stalled, "Stalled")
  end
  return hs
end

local reconciling = condition(status, "Reconciling")
if deleting then
  hs.status = "Progressing"
  if reconciling ~= nil and reconciling.status == "True" then
    hs.message = "Deleting: " .. describe(reconciling, "revoking the certificate")
  else
    hs.message = "Deleting: revoking the certificate"
  end
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling, "Reconciling")
else
  hs.message = describe(ready, "Waiting for the certificate")
end
return hs
