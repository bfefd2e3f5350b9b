-- How each device's session was signed in (`password`, `passkey`, `link`, or the
-- method an app names for sessions it starts): listed with the device. Devices
-- from before this migration have none.
ALTER TABLE jwt_guard_devices ADD COLUMN login_method TEXT
