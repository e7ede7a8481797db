package apiserver

func (s *Server) specRoutes() {}
