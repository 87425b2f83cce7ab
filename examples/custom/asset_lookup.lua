-- Asset lookup by serial number: GET /api/v1/custom/asset_lookup.php?serial=SN-123
--
-- Finds assets whose serial is the value exactly, or whose name, description or notes contain
-- it (a serial is often typed into the notes of an asset recorded before the field was used),
-- case-insensitively. Each row names the field that matched first.
return function(req, db, key)
  local serial = req.param("serial")
  if type(serial) ~= "string" or serial == "" then
    return { error = "serial is required", status = 400 }
  end
  if #serial > 200 then
    return { error = "serial is longer than 200 characters", status = 400 }
  end
  local needle = serial:lower()
  -- LIKE's wildcards in the value are searched for as themselves
  local pattern = "%" .. needle:gsub("[!%%_]", "!%0") .. "%"
  local scope, values = key.scope("asset_client_id")
  local args = { needle, pattern, pattern }
  for _, v in ipairs(values) do args[#args + 1] = v end
  for _, v in ipairs({ needle, pattern, pattern, pattern }) do args[#args + 1] = v end
  return db.rows(
    "SELECT asset_id, asset_name, asset_serial, asset_type, asset_client_id," ..
    " CASE WHEN LOWER(asset_serial) = ? THEN 'asset_serial'" ..
    " WHEN LOWER(asset_name) LIKE ? ESCAPE '!' THEN 'asset_name'" ..
    " WHEN LOWER(asset_description) LIKE ? ESCAPE '!' THEN 'asset_description'" ..
    " ELSE 'asset_notes' END AS matched_field" ..
    " FROM assets WHERE asset_archived_at IS NULL AND " .. scope ..
    " AND (LOWER(asset_serial) = ? OR LOWER(asset_name) LIKE ? ESCAPE '!'" ..
    " OR LOWER(asset_description) LIKE ? ESCAPE '!' OR LOWER(asset_notes) LIKE ? ESCAPE '!')" ..
    " ORDER BY asset_id",
    table.unpack(args))
end
