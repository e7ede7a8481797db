package apiserver

// specRoutes serves the API description Grove implements (openapi.go).
func (s *Server) specRoutes() {
	s.serveOpenAPI()
}
